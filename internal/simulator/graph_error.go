package simulator

import (
	"fmt"
	"net/http"
	"time"
)

// GraphError is an error as the Graph API returns it:
// {"error":{"message","type","code","error_subcode","fbtrace_id"}} with an HTTP status.
// Scripted actions (Customer, Inbox, App) return it too, so tests can check codes.
type GraphError struct {
	HTTPStatus int
	Message    string
	Type       string
	Code       int
	Subcode    int
	Transient  bool
}

func (e *GraphError) Error() string {
	if e.Subcode != 0 {
		return fmt.Sprintf("graph error %d/%d: %s", e.Code, e.Subcode, e.Message)
	}
	return fmt.Sprintf("graph error %d: %s", e.Code, e.Message)
}

func graphErr(status, code, subcode int, typ, msg string) *GraphError {
	return &GraphError{HTTPStatus: status, Code: code, Subcode: subcode, Type: typ, Message: msg}
}

const oauth = "OAuthException"

// The catalogue of errors the simulator answers with (reference §4.3, §6). Messages follow Meta's
// where the reference quotes them; the others are plain descriptions.

func errNotOwnerSend() *GraphError {
	return graphErr(400, 10, 2018300, oauth, "(#10) Message failed to send because another app is controlling this thread now.")
}

func errNotThreadOwner() *GraphError {
	return graphErr(400, 100, 2534037, oauth, "(#100) The action is invalid since it's not the thread owner.")
}

// errAlreadyOwner: take/request by the owner. The reference gives no code; 100 without subcode.
func errAlreadyOwner() *GraphError {
	return graphErr(400, 100, 0, oauth, "(#100) The app is already the thread owner.")
}

// errTakeNotAllowed: take in zero-config mode or without the take permission. The reference gives
// no code; permission errors are code 10.
func errTakeNotAllowed(why string) *GraphError {
	return graphErr(400, 10, 0, oauth, "(#10) Application does not have permission to take thread control: "+why)
}

// errRequestNotAllowed: request_thread_control on a Page with a default app. The reference gives
// no code; Graph's code 10 is "permission denied" (Graph API error handling).
func errRequestNotAllowed() *GraphError {
	return graphErr(400, 10, 0, oauth, "(#10) Application does not have permission for this action: request_thread_control is only available on Pages without a Conversation Routing default app")
}

// errNotReviewed: a Standard Access app acting on a person without a role on it (§4.3 200/2018028).
func errNotReviewed() *GraphError {
	return graphErr(400, 200, 2018028, oauth, "(#200) Cannot message users who are not admins, developers or testers of the app until pages_messaging permission is reviewed and the app is live.")
}

func errOutsideWindow() *GraphError {
	return graphErr(400, 10, 2018278, oauth, "(#10) This message is sent outside of allowed window.")
}

func errUnavailable() *GraphError {
	return graphErr(400, 551, 1545041, oauth, "(#551) This person isn't available right now.")
}

func errNoUser() *GraphError {
	return graphErr(400, 100, 2018001, oauth, "(#100) No matching user found")
}

func errParam(format string, args ...any) *GraphError {
	return graphErr(400, 100, 0, oauth, "(#100) "+fmt.Sprintf(format, args...))
}

func errHOPDisabled() *GraphError {
	return graphErr(400, 100, 0, oauth, "(#100) Handover Protocol APIs disabled for this page")
}

func errNoToken() *GraphError {
	return graphErr(400, 104, 0, oauth, "An access token is required to request this resource.")
}

func errBadToken() *GraphError {
	return graphErr(400, 190, 0, oauth, "Invalid OAuth access token - Cannot parse access token")
}

func errRevokedToken() *GraphError {
	return graphErr(400, 190, 460, oauth, "Error validating access token: The session has been invalidated.")
}

// errExpiredToken: 190/463, an expired session (§4.3 lists 463 among the token subcodes).
func errExpiredToken(at, now time.Time) *GraphError {
	return graphErr(400, 190, 463, oauth, fmt.Sprintf("Error validating access token: Session has expired on %s. The current time is %s.",
		at.UTC().Format(time.RFC1123), now.UTC().Format(time.RFC1123)))
}

// errMissingScope: a Page token without the permission an endpoint needs. Code 230 for
// pages_messaging is what Graph answers (reported in jellyfangs/messenger-bot-tutorial#46); other
// permissions get 200, Graph's "API permission" range (Graph API error handling).
func errMissingScope(scope string) *GraphError {
	code := 200
	if scope == "pages_messaging" {
		code = 230
	}
	return graphErr(403, code, 0, oauth, fmt.Sprintf("(#%d) Requires %s permission to manage the object", code, scope))
}

func errBadAppToken() *GraphError {
	return graphErr(400, 190, 0, oauth, "Invalid OAuth access token signature.")
}

func errNeedPageToken() *GraphError {
	return graphErr(400, 210, 0, oauth, "(#210) This call requires a Page access token.")
}

func errNeedAppToken() *GraphError {
	return graphErr(400, 15, 0, oauth, "(#15) This method must be called with an app access_token.")
}

func errNoObject(id string) *GraphError {
	return graphErr(400, 100, 33, "GraphMethodException", fmt.Sprintf("Unsupported request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation.", id))
}

func errNoField(field, node string) *GraphError {
	return graphErr(400, 100, 0, oauth, fmt.Sprintf("(#100) Tried accessing nonexisting field (%s) on node type (%s)", field, node))
}

func errAppSecretProof(missing bool) *GraphError {
	if missing {
		return graphErr(400, 100, 0, "GraphMethodException", "API calls from the server require an appsecret_proof argument")
	}
	return graphErr(400, 100, 0, "GraphMethodException", "Invalid appsecret_proof provided in the API argument")
}

func errCallbackVerification(detail string) *GraphError {
	return graphErr(400, 2200, 0, oauth, "(#2200) Callback verification failed with the following errors: "+detail)
}

// Profile errors (reference §6). Codes beyond the subcodes are not in the reference: 100 for the
// missing profile, 10 (permission) for the app without access.
func errNoProfile() *GraphError {
	return graphErr(400, 100, 2018218, oauth, "(#100) No profile available for this user.")
}

func errProfileField(field string) *GraphError {
	return graphErr(400, 10, 2018247, oauth, fmt.Sprintf("(#10) Insufficient permission to access user profile field %s.", field))
}

func errProfileAccess() *GraphError {
	return graphErr(400, 10, 0, oauth, "(#10) Application does not have the capability to make this API call: Business Asset User Profile Access is required.")
}

func errHumanAgentPermission() *GraphError {
	return graphErr(400, 10, 0, oauth, "(#10) This app does not have the permission to use the HUMAN_AGENT tag.")
}

// defaultFault returns Meta's message and HTTP status for the codes used in fault injection.
func defaultFault(code int) (status int, typ, msg string, transient bool) {
	switch code {
	case 1:
		return http.StatusInternalServerError, oauth, "An unknown error occurred", true
	case 2:
		return http.StatusServiceUnavailable, oauth, "An unexpected error has occurred. Please retry your request later.", true
	case 4:
		return 400, oauth, "(#4) Application request limit reached", true
	case 17:
		return 400, oauth, "(#17) User request limit reached", true
	case 32:
		return 400, oauth, "(#32) Page request limit reached", true
	case 613:
		return 400, oauth, "(#613) Calls to this api have exceeded the rate limit.", true
	case 190:
		return 400, oauth, "Error validating access token.", false
	}
	return 400, oauth, fmt.Sprintf("(#%d) Injected error", code), false
}
