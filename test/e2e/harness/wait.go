package harness

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// Eventually polls cond until it returns true, returns an error, or within passes.
func Eventually(ctx context.Context, within time.Duration, cond func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	for {
		done, err := cond()
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("condition not met within %s", within)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Get reads the MessengerPage.
func (p *Page) Get(ctx context.Context) (*v1alpha1.MessengerPage, error) {
	var mp v1alpha1.MessengerPage
	return &mp, p.env.Cluster.Client.Get(ctx, p.Key(), &mp)
}

// Condition returns the page's condition of type typ (nil when absent).
func (p *Page) Condition(ctx context.Context, typ string) (*metav1.Condition, error) {
	return condition(ctx, p.env, p.Key(), typ)
}

func condition(ctx context.Context, e *Env, key types.NamespacedName, typ string) (*metav1.Condition, error) {
	var mp v1alpha1.MessengerPage
	if err := e.Cluster.Client.Get(ctx, key, &mp); err != nil {
		return nil, err
	}
	return apimeta.FindStatusCondition(mp.Status.Conditions, typ), nil
}

// WaitCondition waits until the page's condition typ has status (and reason, when not empty),
// and returns it.
func (p *Page) WaitCondition(ctx context.Context, typ string, status metav1.ConditionStatus, reason string) (*metav1.Condition, error) {
	return waitCondition(ctx, p.env, p.Key(), typ, status, reason)
}

func waitCondition(ctx context.Context, e *Env, key types.NamespacedName, typ string, status metav1.ConditionStatus, reason string) (*metav1.Condition, error) {
	var got *metav1.Condition
	err := Eventually(ctx, 60*time.Second, func() (bool, error) {
		c, err := condition(ctx, e, key, typ)
		if err != nil {
			return false, err
		}
		got = c
		return c != nil && c.Status == status && (reason == "" || c.Reason == reason), nil
	})
	if err != nil {
		return got, fmt.Errorf("%s: condition %s=%s (%s), last seen %+v: %w", key, typ, status, reason, got, err)
	}
	return got, nil
}

// ConfigApplied is how many configurations (page, policy, Secrets) the webhook has applied, from
// its metrics: a change is in force for the next event once this grew.
func (p *Page) ConfigApplied(ctx context.Context) (int, error) {
	v, err := metric(ctx, p.ProbeURL, "messenger_webhook_config_applied_total")
	return int(v), err
}

// metric reads an unlabelled metric from the webhook's probe port.
func metric(ctx context.Context, probeURL, name string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, probeURL+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, fmt.Errorf("no %s in the webhook's metrics", name)
}

// WaitConfigApplied waits until the webhook has applied more than before configurations.
func (p *Page) WaitConfigApplied(ctx context.Context, before int) error {
	return Eventually(ctx, 60*time.Second, func() (bool, error) {
		n, err := p.ConfigApplied(ctx)
		return n > before, err
	})
}
