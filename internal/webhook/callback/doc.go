// Package callback is the webhook's HTTP contract with the Messenger Platform: it answers the
// verification GET (hub.challenge for the right verify token) and takes signed event POSTs,
// acknowledging them within Meta's 5 seconds and handing the events to a Queue (the runner).
//
// Request path: body limit (413) and in-flight byte budget (503), X-Hub-Signature-256 over the
// raw bytes (403), encoding/json into small structs (400), the events of the pages served (an
// entry of another page is counted, or told to Unserved), Queue.Accept, 200. A full queue answers
// 503, so Meta delivers the POST again later.
package callback
