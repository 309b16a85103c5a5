// Package metrics holds the control plane's Prometheus collectors on a registry of
// its own (no global state, so tests can build several servers in one process).
//
// Every label takes its value from a fixed set: nothing a client sends becomes a label
// value as sent (an unknown HTTP method is "other"; a path that matched no route is the
// route "unmatched"), so unauthenticated requests cannot grow the number of series.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the collectors. A nil *Metrics is valid and records nothing.
type Metrics struct {
	Registry *prometheus.Registry

	logins          *prometheus.CounterVec
	signups         *prometheus.CounterVec
	passwordChanges *prometheus.CounterVec
	refreshes       *prometheus.CounterVec
	reuseDetections prometheus.Counter
	revocations     *prometheus.CounterVec
	httpDuration    *prometheus.HistogramVec
}

// New registers the collectors (plus Go runtime and process collectors) on a new
// registry.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgeauth_logins_total", Help: "Login attempts by result (ok, invalid_credentials, invalid, throttled, mfa_required, mfa_invalid, mfa_enrollment_required, error); a confirmed enrollment without a session counts as a login (and its refusals as mfa_not_pending, mfa_enabled, mfa_enrollment_not_required).",
		}, []string{"result"}),
		signups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgeauth_signups_total", Help: "Signup attempts by result (ok, created_without_session: a second factor is required first, user_exists, invalid, throttled, error).",
		}, []string{"result"}),
		passwordChanges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgeauth_password_changes_total", Help: "Password changes by signed-in users, by result (ok, invalid_credentials, throttled, invalid, second_factor_required, error).",
		}, []string{"result"}),
		refreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgeauth_refreshes_total", Help: "Refresh attempts by result (rotated, missing, invalid, reused, second_factor_required, error).",
		}, []string{"result"}),
		reuseDetections: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "edgeauth_refresh_reuse_detections_total", Help: "Refresh-token reuse detections (each revokes a session).",
		}),
		revocations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgeauth_session_revocations_total", Help: "Sessions revoked through the API, by reason (logout, logout_all, logout_others, password_changed, relogin, revoke, reuse, second_factor_required).",
		}, []string{"reason"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "edgeauth_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern (or unmatched), method (standard methods; other) and status class.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route", "method", "code"}),
	}
	m.Registry.MustRegister(m.logins, m.signups, m.passwordChanges, m.refreshes, m.reuseDetections, m.revocations, m.httpDuration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// RefreshGroups exposes the store's refresh groups (store.Store.RefreshGroupStats), read
// at each scrape: the groups of two or more refreshes sent as one pipeline and one
// commit, and the refreshes in them.
func (m *Metrics) RefreshGroups(stats func() (groups, refreshes int64)) {
	if m == nil {
		return
	}
	m.Registry.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "edgeauth_refresh_groups_total",
			Help: "Groups of two or more refreshes sent as one pipeline with one commit (refreshes that queued while every lane was busy).",
		}, func() float64 { g, _ := stats(); return float64(g) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "edgeauth_refresh_grouped_total",
			Help: "Refreshes sent in those groups; divided by edgeauth_refresh_groups_total, the mean group size.",
		}, func() float64 { _, r := stats(); return float64(r) }),
	)
}

// RevocationList exposes the current signed revocation list (revocation.List.Stats),
// read at each scrape: how many sessions it names, and its cutoff (0 when it has
// none). A cutoff means more sessions were revoked than the list names, and every
// user whose access token is older refreshes early: alert on it.
func (m *Metrics) RevocationList(stats func() (named int, cutoff int64)) {
	if m == nil {
		return
	}
	m.Registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "edgeauth_revocation_list_sessions",
			Help: "Sessions the current revocation list names.",
		}, func() float64 { n, _ := stats(); return float64(n) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "edgeauth_revocation_list_cutoff_timestamp_seconds",
			Help: "The current revocation list's cutoff (unix seconds; 0: none): access tokens issued earlier are refused as expired, because more sessions were revoked than the list names.",
		}, func() float64 { _, c := stats(); return float64(c) }),
	)
}

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// Login records one login attempt.
func (m *Metrics) Login(result string) {
	if m != nil {
		m.logins.WithLabelValues(result).Inc()
	}
}

// Signup records one signup attempt.
func (m *Metrics) Signup(result string) {
	if m != nil {
		m.signups.WithLabelValues(result).Inc()
	}
}

// PasswordChange records one signed-in user's attempt to change their password.
func (m *Metrics) PasswordChange(result string) {
	if m != nil {
		m.passwordChanges.WithLabelValues(result).Inc()
	}
}

// Refresh records one refresh attempt; result "reused" also counts a reuse detection.
func (m *Metrics) Refresh(result string) {
	if m == nil {
		return
	}
	m.refreshes.WithLabelValues(result).Inc()
	if result == "reused" {
		m.reuseDetections.Inc()
		m.revocations.WithLabelValues("reuse").Inc()
	}
}

// Revocation records n sessions revoked for reason.
func (m *Metrics) Revocation(reason string, n int) {
	if m != nil && n > 0 {
		m.revocations.WithLabelValues(reason).Add(float64(n))
	}
}

// Request records one HTTP request's latency. route must be a registered pattern or
// "unmatched" (never the raw path); method is reduced to Method(method).
func (m *Metrics) Request(route, method string, status int, d time.Duration) {
	if m != nil {
		m.httpDuration.WithLabelValues(route, Method(method), statusClass(status)).Observe(d.Seconds())
	}
}

// Method returns an HTTP method as a label value: the standard methods (RFC 9110 and
// PATCH) as they are, anything else "other". Methods are case-sensitive, so "get" is
// other too.
func Method(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "other"
}

func statusClass(s int) string {
	switch {
	case s >= 500:
		return "5xx"
	case s >= 400:
		return "4xx"
	case s >= 300:
		return "3xx"
	default:
		return "2xx"
	}
}
