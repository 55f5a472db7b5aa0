// Package replicas runs real webhook processes of one MessengerApp (two pages, directory mode)
// sharing a real redis-server, behind a round-robin TCP proxy, with the Messenger Platform
// simulator delivering conversations, and breaks them: a replica killed at each crash point
// (built with the crashpoints tag), kill -9 mid-stream, redis-server restarted, rolling
// restarts. It counts what the simulator saw: every accepted event handled, duplicates only
// where the guarantee allows them.
package replicas
