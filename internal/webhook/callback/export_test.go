package callback

// For the external tests (package callback_test), which run the callback behind the runner.

// DecodeSeeds are the bodies the decoder's tests start from.
var DecodeSeeds = append(append([]string{}, decodeOK...), decodeBad...)

// Decodes reports whether the decoder accepts body as a webhook envelope.
func Decodes(body []byte) bool {
	var env envelope
	return decodeBody(body, &env) == nil
}
