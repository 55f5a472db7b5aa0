package pagestatus

import (
	"context"
	"log/slog"
)

// LogReporter reports to the log: standalone mode has no MessengerPage to write to.
type LogReporter struct {
	Logger *slog.Logger
}

// GraphAuthorized implements webhook.Reporter.
func (l LogReporter) GraphAuthorized(ok bool, message string) {
	l.report("GraphAuthorized", ok, message)
}

// HandoverPermitted implements webhook.Reporter.
func (l LogReporter) HandoverPermitted(ok bool, message string) {
	l.report("HandoverPermitted", ok, message)
}

func (l LogReporter) report(condition string, ok bool, message string) {
	log := l.Logger
	if log == nil {
		log = slog.Default()
	}
	level := slog.LevelInfo
	if !ok {
		level = slog.LevelWarn
	}
	log.Log(context.Background(), level, "page condition changed", "condition", condition, "status", ok, "message", message)
}
