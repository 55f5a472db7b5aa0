package status

import (
	"context"
	"log/slog"
	"strconv"
)

// Log reports to the log: standalone mode has no MessengerPage to write to.
type Log struct {
	Logger *slog.Logger
}

// GraphAuthorized implements runner.Reporter.
func (l Log) GraphAuthorized(ok bool, message string) {
	l.report("GraphAuthorized", ok, message)
}

// HandoverPermitted implements runner.Reporter.
func (l Log) HandoverPermitted(ok bool, message string) {
	l.report("HandoverPermitted", ok, message)
}

// CanAct implements runner.Reporter.
func (l Log) CanAct(ok bool, message string) {
	l.report("CanAct", ok, message)
}

func (l Log) report(condition string, ok bool, message string) {
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

// Served reports the Served condition of an app's page (directory mode).
func (l Log) Served(gen int64, ok bool, reason, message string) {
	l.report("Served", ok, reason+": "+message+" (generation "+strconv.FormatInt(gen, 10)+")")
}
