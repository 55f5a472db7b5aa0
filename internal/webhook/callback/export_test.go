package callback

// For the external tests (package callback_test), which run the callback behind the runner.

// DecodeSeeds are the bodies the decoder's tests start from.
var DecodeSeeds = decodeSeeds

// Decodes reports whether the scanner accepts body as a webhook envelope.
func Decodes(body []byte) bool {
	var env envelope
	return decodeBody(body, &env) == nil
}
