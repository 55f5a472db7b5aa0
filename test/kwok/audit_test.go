package kwok

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// auditEvent is the part of a kube-apiserver audit event (audit.k8s.io/v1) the tests read.
type auditEvent struct {
	Verb       string `json:"verb"`
	Stage      string `json:"stage"`
	RequestURI string `json:"requestURI"`
	UserAgent  string `json:"userAgent"`
	User       struct {
		Username string `json:"username"`
	} `json:"user"`
	ImpersonatedUser *struct {
		Username string `json:"username"`
	} `json:"impersonatedUser"`
	ObjectRef *struct {
		Resource    string `json:"resource"`
		Subresource string `json:"subresource"`
		Namespace   string `json:"namespace"`
		Name        string `json:"name"`
		APIGroup    string `json:"apiGroup"`
	} `json:"objectRef"`
	ResponseStatus *struct {
		Code int `json:"code"`
	} `json:"responseStatus"`
}

// actor is who made the request: the impersonated identity when there is one (the manager
// runs impersonating its ServiceAccount).
func (e auditEvent) actor() string {
	if e.ImpersonatedUser != nil {
		return e.ImpersonatedUser.Username
	}
	return e.User.Username
}

func (e auditEvent) String() string {
	s := e.Verb + " " + e.RequestURI
	if e.ResponseStatus != nil {
		s += fmt.Sprintf(" -> %d", e.ResponseStatus.Code)
	}
	return s + " (" + e.UserAgent + ")"
}

// auditLogPath is where kwokctl has the apiserver write its audit log: under the cluster's
// workdir, which testenv keeps next to the kubeconfig.
func auditLogPath() string {
	return filepath.Join(filepath.Dir(cluster.Kubeconfig), "clusters", cluster.Name, "logs", "audit.log")
}

// auditMark is the current end of the audit log: auditSince reads what came after it.
func auditMark(t *testing.T) int64 {
	t.Helper()
	st, err := os.Stat(auditLogPath())
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// auditSince returns the completed requests logged after mark by actor.
func auditSince(t *testing.T, mark int64, actor string) []auditEvent {
	t.Helper()
	f, err := os.Open(auditLogPath())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Seek(mark, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	var out []auditEvent
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e auditEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			continue // a line being written as we read
		}
		if e.Stage == "ResponseComplete" && e.actor() == actor {
			out = append(out, e)
		}
	}
	return out
}
