package revocation_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/revocation"
	"github.com/edgeauth/edgeauth/controlplane/store"
	"github.com/edgeauth/edgeauth/internal/pgtest"
	"github.com/edgeauth/edgeauth/migrations"
	"github.com/edgeauth/edgeauth/verifier/jose"
	"github.com/golang-jwt/jwt/v5"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

type signer struct {
	priv ed25519.PrivateKey
	pub  ed25519.PublicKey
}

func (s *signer) Sign(_ context.Context, c jwt.Claims, typ string) (string, error) {
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
	tok.Header["kid"] = "k1"
	tok.Header["typ"] = typ
	return tok.SignedString(s.priv)
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	pool   *pgxpool.Pool
	st     *store.Store
	signer *signer
	clock  *clock
	user   string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := migrations.Apply(ctx, pool); err != nil {
		t.Fatal(err)
	}
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	f := &fixture{pool: pool, st: store.New(pool), signer: &signer{priv, pub}, clock: &clock{t: time.Now().Truncate(time.Second)}}
	u, err := f.st.CreateUser(ctx, store.User{Email: "u@example.test", PasswordHash: "$argon2id$v=19$m=1,t=1,p=1$x$y"})
	if err != nil {
		t.Fatal(err)
	}
	f.user = u.ID
	return f
}

// session creates a live session and returns its id.
func (f *fixture) session(t *testing.T) string {
	t.Helper()
	var b [24]byte
	rand.Read(b[:])
	id := base64.RawURLEncoding.EncodeToString(b[:])
	now := f.clock.Now()
	h := sha256.Sum256(b[:])
	if err := f.st.CreateSession(context.Background(), store.Session{ID: id, UserID: f.user, Created: now, LastUsed: now,
		IdleExpires: now.Add(time.Hour), AbsoluteExpires: now.Add(time.Hour), TokenHash: h[:]}); err != nil {
		t.Fatal(err)
	}
	return id
}

func (f *fixture) revoke(t *testing.T, st *store.Store, sid string) {
	t.Helper()
	if err := st.RevokeSession(context.Background(), sid, "", "logout", f.clock.Now()); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) list(t *testing.T) *revocation.List {
	t.Helper()
	l, err := revocation.New(context.Background(), f.pool, f.signer, revocation.Config{
		Issuer: "https://auth.example.test", Now: f.clock.Now, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// verify checks the JWS with golang-jwt against the public key and returns its payload.
func (f *fixture) verify(t *testing.T, body []byte) (map[string]any, map[string]any) {
	t.Helper()
	p := jwt.NewParser(jwt.WithValidMethods([]string{"EdDSA"}), jwt.WithTimeFunc(f.clock.Now))
	tok, err := p.Parse(string(body), func(*jwt.Token) (any, error) { return f.signer.pub, nil })
	if err != nil {
		t.Fatalf("list does not verify: %v", err)
	}
	parts := strings.Split(string(body), ".")
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var payload map[string]any
	if err := json.Unmarshal(raw, &payload); err != nil {
		t.Fatal(err)
	}
	return tok.Header, payload
}

func sids(payload map[string]any) []string {
	var out []string
	for _, v := range payload["sids"].([]any) {
		out = append(out, v.(string))
	}
	return out
}

func TestListFormatAndWindow(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	l := f.list(t)
	body, etag := l.Body()
	h, p := f.verify(t, body)
	if h["typ"] != revocation.Type || h["kid"] != "k1" || h["alg"] != "EdDSA" {
		t.Fatalf("header %v", h)
	}
	if len(p) != 5 || p["iss"] != "https://auth.example.test" || p["seq"] != 0.0 || p["exp"].(float64)-p["iat"].(float64) != 60 ||
		p["iat"].(float64) != float64(f.clock.Now().Unix()) || len(p["sids"].([]any)) != 0 {
		t.Fatalf("payload %v (an empty list must be [] not null)", p)
	}
	if !strings.HasPrefix(etag, `"`) || !strings.HasSuffix(etag, `"`) {
		t.Fatalf("etag %s", etag)
	}

	old, live := f.session(t), f.session(t)
	f.revoke(t, f.st, old)
	f.clock.Add(revocation.DefaultWindow) // old's revocation leaves the window
	recent := f.session(t)
	f.revoke(t, f.st, recent)
	f.clock.Add(time.Second)
	if err := l.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	body2, etag2 := l.Body()
	_, p = f.verify(t, body2)
	if got := sids(p); !slices.Equal(got, []string{recent}) {
		t.Fatalf("sids %v, want only %s (not %s, not live %s)", got, recent, old, live)
	}
	if etag2 == etag {
		t.Fatal("etag unchanged")
	}
	if p["exp"].(float64)-p["iat"].(float64) != 60 {
		t.Fatalf("payload %v: exp is not iat + 60 s", p)
	}
}

// The list names first the sessions one of whose access tokens may still be accepted,
// then, while there is room, those whose tokens all expired; past MaxListedBytes the
// sessions whose latest token is the oldest are covered by a cutoff instead, which
// never passes the list's own iat.
func TestListCutoffWhenTooManyToName(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	l, err := revocation.New(ctx, f.pool, f.signer, revocation.Config{
		Issuer: "https://auth.example.test", Now: f.clock.Now, Logger: slog.New(slog.DiscardHandler),
		MaxListedBytes: 3 * (32 + 3)}) // three ids of 32 characters
	if err != nil {
		t.Fatal(err)
	}
	build := func() (named []string, before float64) {
		t.Helper()
		if err := l.Rebuild(ctx); err != nil {
			t.Fatal(err)
		}
		body, _ := l.Body()
		_, p := f.verify(t, body)
		b, _ := p["before"].(float64)
		named = sids(p)
		slices.Sort(named) // revoked at the same time: in id order
		return named, b
	}
	sorted := func(s []string) []string { return slices.Sorted(slices.Values(s)) }

	idle := f.session(t) // its token expires long before its revocation
	f.clock.Add(revocation.DefaultWindow + time.Second)
	var used []time.Time // when each session's latest token was issued
	var all []string
	for range 5 {
		all = append(all, f.session(t))
		used = append(used, f.clock.Now())
		f.clock.Add(1500 * time.Millisecond)
	}
	f.revoke(t, f.st, idle)
	for _, sid := range all[:2] {
		f.revoke(t, f.st, sid)
	}
	named, before := build()
	if want := sorted([]string{idle, all[0], all[1]}); !slices.Equal(named, want) || before != 0 {
		t.Fatalf("within the budget: named %v, before %v; want %v (the idle session too) and no cutoff", named, before, want)
	}
	f.revoke(t, f.st, all[2])
	named, before = build()
	if !slices.Equal(named, sorted(all[:3])) || before != 0 {
		t.Fatalf("budget spent on live sessions: named %v, before %v; want %v (not the idle one, whose tokens expired) and no cutoff", named, before, all[:3])
	}
	for _, sid := range all[3:] {
		f.revoke(t, f.st, sid)
	}
	named, before = build()
	if want := float64(used[1].Unix() + 1); !slices.Equal(named, sorted(all[2:])) || before != want {
		t.Fatalf("over the budget: named %v, before %v; want %v and %v", named, before, all[2:], want)
	}

	// Four more sessions, all within the second the list is built in: the cutoff stops
	// at the list's iat and every one of them is named, past the budget.
	f.clock.Add(-f.clock.Now().Sub(f.clock.Now().Truncate(time.Second)) + time.Second)
	var current []string
	for range 4 {
		current = append(current, f.session(t))
		f.clock.Add(100 * time.Millisecond)
	}
	for _, sid := range current {
		f.revoke(t, f.st, sid)
	}
	named, before = build()
	if now := f.clock.Now().Unix(); !slices.Equal(named, sorted(current)) || before != float64(now) {
		t.Fatalf("budget spent within the current second: named %v, before %v; want %v and %d", named, before, current, now)
	}
}

func TestConfigRefused(t *testing.T) {
	f := newFixture(t)
	for name, cfg := range map[string]revocation.Config{
		"no issuer":       {},
		"cache too short": {Issuer: "x", CacheTTL: 10 * time.Second},
		"cache too long":  {Issuer: "x", CacheTTL: time.Hour},
		"negative window": {Issuer: "x", Window: -time.Second},
	} {
		if _, err := revocation.New(context.Background(), f.pool, f.signer, cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// listed reports whether the list l publishes (Body, verified) names sid.
func (f *fixture) listed(t *testing.T, l *revocation.List, sid string) func() bool {
	return func() bool {
		body, _ := l.Body()
		_, p := f.verify(t, body)
		return slices.Contains(sids(p), sid)
	}
}

// next returns the next event of a kind, skipping others, or fails after a generous
// deadline (a failure guard, not a timing assertion).
func next(t *testing.T, sub *revocation.Subscription, kind string, match func(revocation.Event) bool) revocation.Event {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev := <-sub.C:
			if ev.Kind == kind && (match == nil || match(ev)) {
				return ev
			}
		case <-sub.Lagged():
			t.Fatal("subscription lagged")
		case <-deadline:
			t.Fatalf("no %s event", kind)
		}
	}
}

// A revocation written by another replica (another pool) reaches this replica's list and
// its subscribers through LISTEN/NOTIFY, as a signed event with its number and reason,
// and after the listening connection was killed, through the list rebuilt on reconnect.
func TestRunFollowsRevocationsAcrossReplicas(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l := f.list(t)
	sub := l.Subscribe(64)
	defer sub.Close()
	done := make(chan struct{})
	go func() { l.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	other, err := pgxpool.New(ctx, f.pool.Config().ConnString())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	otherStore := store.New(other)

	// Wait until the listener is up (it rebuilds once connected).
	waitFor(t, "listener", func() bool {
		var n int
		f.pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'`).Scan(&n)
		return n == 1
	})
	a := f.session(t)
	f.revoke(t, otherStore, a)
	ev := next(t, sub, revocation.KindRevoked, nil)
	h, p := f.verify(t, ev.Data)
	if ev.SessionID != a || ev.Seq < 1 || h["typ"] != revocation.EventType || p["sid"] != a || p["reason"] != "logout" ||
		p["seq"] != float64(ev.Seq) || p["iss"] != "https://auth.example.test" {
		t.Fatalf("event %+v: header %v payload %v", ev, h, p)
	}
	waitFor(t, "first revocation listed", f.listed(t, l, a))
	lst := next(t, sub, revocation.KindList, func(e revocation.Event) bool { return e.Seq >= ev.Seq })
	if _, p := f.verify(t, lst.Data); !slices.Contains(sids(p), a) || p["seq"] != float64(lst.Seq) {
		t.Fatalf("list after the revocation: %v", p)
	}

	// Kill the listener's connection; it must come back by itself, and a revocation
	// made meanwhile reaches subscribers at the latest in the list rebuilt on reconnect.
	if _, err := f.pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'`); err != nil {
		t.Fatal(err)
	}
	b := f.session(t)
	f.revoke(t, otherStore, b)
	waitFor(t, "revocation listed after reconnect", f.listed(t, l, b))
	deadline := time.After(10 * time.Second)
	for heard := false; !heard; {
		select {
		case ev := <-sub.C:
			if ev.Kind == revocation.KindRevoked && ev.SessionID == b {
				heard = true
			} else if ev.Kind == revocation.KindList {
				_, p := f.verify(t, ev.Data)
				heard = slices.Contains(sids(p), b)
			}
		case <-deadline:
			t.Fatal("subscriber heard nothing of the revocation made during the reconnect")
		}
	}
}

// Replay gives a subscriber that saw number n every later revocation, plus those of
// the lookback before n (a revocation may commit after a higher-numbered one), in
// number order, signed.
func TestReplayFromANumber(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	l := f.list(t)
	var ids []string
	for range 5 {
		sid := f.session(t)
		f.revoke(t, f.st, sid)
		ids = append(ids, sid)
		f.clock.Add(time.Minute) // beyond the lookback apart
	}
	all, err := l.Replay(ctx, 0)
	if err != nil || len(all) != 5 {
		t.Fatalf("replay from 0: %d events, %v", len(all), err)
	}
	for i, ev := range all {
		_, p := f.verify(t, ev.Data)
		if ev.SessionID != ids[i] || p["sid"] != ids[i] || (i > 0 && ev.Seq <= all[i-1].Seq) {
			t.Fatalf("event %d: %+v %v", i, ev, p)
		}
	}
	after, err := l.Replay(ctx, all[2].Seq)
	if err != nil || len(after) != 3 || after[0].Seq != all[2].Seq || after[2].SessionID != ids[4] {
		t.Fatalf("replay after the third: %+v, %v (the third itself is within the lookback)", after, err)
	}
	// A revocation that draws its number first but commits after a later one: a
	// subscriber that saw the later one still gets it.
	slow, fast := f.session(t), f.session(t)
	drawn, commit := make(chan struct{}), make(chan struct{})
	txDone := make(chan error, 1)
	go func() {
		txDone <- f.st.InTx(ctx, func(q store.Queries) error {
			if err := q.RevokeSession(ctx, slow, "", "logout", f.clock.Now()); err != nil {
				return err
			}
			close(drawn)
			<-commit
			return nil
		})
	}()
	<-drawn
	f.revoke(t, f.st, fast) // draws a higher number, commits first
	seen, err := l.Replay(ctx, all[4].Seq)
	if err != nil || len(seen) != 2 || seen[1].SessionID != fast {
		t.Fatalf("replay while the slow revocation is uncommitted: %+v, %v", seen, err)
	}
	close(commit)
	if err := <-txDone; err != nil {
		t.Fatal(err)
	}
	got, err := l.Replay(ctx, seen[1].Seq) // the subscriber saw fast's number last
	if err != nil || !slices.ContainsFunc(got, func(e revocation.Event) bool { return e.SessionID == slow && e.Seq < seen[1].Seq }) {
		t.Fatalf("replay after the later number misses the earlier-numbered, later-committed revocation: %+v, %v", got, err)
	}
	if none, err := l.Replay(ctx, seen[1].Seq+1000); err != nil || len(none) != 0 {
		t.Fatalf("replay after an unknown number: %+v, %v", none, err)
	}
}

// Replay is bounded: a subscriber that missed more gets the newest ones, and the list
// names the rest. Any caller can ask for a replay from 0.
func TestReplayIsBounded(t *testing.T) {
	defer revocation.SetMaxReplay(3)()
	f := newFixture(t)
	ctx := context.Background()
	l := f.list(t)
	var ids []string
	for range 5 {
		sid := f.session(t)
		f.revoke(t, f.st, sid)
		ids = append(ids, sid)
	}
	got, err := l.Replay(ctx, 0)
	if err != nil || len(got) != 3 {
		t.Fatalf("replay from 0: %d events, %v", len(got), err)
	}
	for i, ev := range got {
		if ev.SessionID != ids[2+i] {
			t.Fatalf("event %d names %s, want %s", i, ev.SessionID, ids[2+i])
		}
	}
	if err := l.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	_, p := f.verify(t, l.CurrentEvent().Data)
	for _, sid := range ids {
		if !slices.Contains(sids(p), sid) {
			t.Fatalf("the list lacks %s, which the bounded replay left out", sid)
		}
	}
}

// A bounded replay still misses nothing: what it leaves out must be in the list the
// stream sends with it (CurrentEvent, read before the replay, not a later rebuild), so
// the newest revocations, which that list may not cover yet, are the ones replayed.
func TestBoundedReplayLeavesOutOnlyWhatTheListNames(t *testing.T) {
	defer revocation.SetMaxReplay(3)()
	f := newFixture(t)
	ctx := context.Background()
	l := f.list(t)
	var all []string
	for range 3 { // in the list
		sid := f.session(t)
		f.revoke(t, f.st, sid)
		all = append(all, sid)
	}
	if err := l.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	for range 2 { // after it: a stream starting now learns them only from its replay
		sid := f.session(t)
		f.revoke(t, f.st, sid)
		all = append(all, sid)
	}
	cur := l.CurrentEvent()
	got, err := l.Replay(ctx, 0)
	if err != nil || len(got) != 3 {
		t.Fatalf("replay from 0: %d events, %v", len(got), err)
	}
	_, p := f.verify(t, cur.Data)
	for _, sid := range all {
		replayed := slices.ContainsFunc(got, func(ev revocation.Event) bool { return ev.SessionID == sid })
		if !replayed && !slices.Contains(sids(p), sid) {
			t.Errorf("revocation of %s is neither replayed nor in the list the stream sends", sid)
		}
	}
	if !slices.IsSortedFunc(got, func(a, b revocation.Event) int { return int(a.Seq - b.Seq) }) {
		t.Errorf("replay not in number order")
	}
}

// A subscriber that stops reading is cut off, not fed with gaps.
func TestSlowSubscriberIsCutOff(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	l := f.list(t)
	sub := l.Subscribe(1)
	defer sub.Close()
	for range 3 {
		if err := l.Rebuild(ctx); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-sub.Lagged():
	default:
		t.Fatal("a subscriber that fell behind was not cut off")
	}
	fresh := l.Subscribe(4)
	defer fresh.Close()
	if err := l.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	if ev := <-fresh.C; ev.Kind != revocation.KindList {
		t.Fatalf("event %+v", ev)
	}
}

// A list that names a revocation for the first time comes after that revocation's
// event, even when the notification has not arrived yet (subscribers learn the reason
// first), and the event is not repeated by later lists.
func TestEventBeforeTheListThatNamesIt(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	l := f.list(t)
	sub := l.Subscribe(16)
	defer sub.Close()
	sid := f.session(t)
	f.revoke(t, f.st, sid) // not listening: no notification reaches l
	for range 2 {
		if err := l.Rebuild(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var kinds []string
	for len(kinds) < 3 {
		ev := <-sub.C
		kinds = append(kinds, ev.Kind)
		if ev.Kind == revocation.KindRevoked {
			if _, p := f.verify(t, ev.Data); p["sid"] != sid || p["reason"] != "logout" {
				t.Fatalf("event %v", p)
			}
		}
	}
	if !slices.Equal(kinds, []string{revocation.KindRevoked, revocation.KindList, revocation.KindList}) {
		t.Fatalf("events %v", kinds)
	}
}

// TestReadyWhileTheListenerFirstConnects: until the listener has connected once, Ready
// says it is connecting, not that a connection was lost (the database refuses new
// connections here, so the listener keeps trying).
func TestReadyWhileTheListenerFirstConnects(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	l := f.list(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cc := f.pool.Config().ConnConfig.Copy()
	db := cc.Database
	cc.Database = "postgres"
	admin, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	if _, err := admin.Exec(ctx, `ALTER DATABASE "`+db+`" ALLOW_CONNECTIONS false`); err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = admin.Exec(context.Background(), `ALTER DATABASE "`+db+`" ALLOW_CONNECTIONS true`) }()
	go l.Run(ctx)
	waitFor(t, "Ready to say the listener is connecting", func() bool {
		err := l.Ready()
		return err != nil && strings.Contains(err.Error(), "revocation listener connecting")
	})
	if _, err := admin.Exec(ctx, `ALTER DATABASE "`+db+`" ALLOW_CONNECTIONS true`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "Ready once the listener connected", func() bool { return l.Ready() == nil })
}

// With the default budget, a list built after more revocations than it can name stays
// within what a verifier accepts, and the verifier's own check takes it. Without the
// cutoff, 6,000 ids would make a list of about 280 KiB that every edge refuses.
func TestDefaultBudgetFitsTheVerifier(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	now := f.clock.Now()
	// 6,000 sessions of 32-character ids, each last issued a token a millisecond
	// before the next, all revoked now.
	if _, err := f.pool.Exec(ctx, `
		INSERT INTO sessions (id, user_id, created_at, last_used_at, idle_expires_at, absolute_expires_at, token_hash, revoked_at, revoke_reason)
		SELECT md5(random()::text || i::text), $1, t, t, $2, $2, sha256(i::text::bytea), $3, 'logout'
		FROM generate_series(1, 6000) i, LATERAL (SELECT $3::timestamptz - i * interval '1 millisecond' AS t) x`,
		f.user, now.Add(time.Hour), now); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(time.Second)
	l := f.list(t)
	body, _ := l.Body()
	_, p := f.verify(t, body)
	named, before := sids(p), p["before"]
	// The budget holds 4,000 ids: the 4,001st newest got its token 4.001 s before now
	// (a whole second), so the cutoff is 4 s before now and 4,000 are named.
	if len(body) > jose.MaxJWSBytes || len(named) != 4000 || before != float64(now.Unix()-4) {
		t.Fatalf("list of %d bytes names %d sessions, before %v; want at most %d bytes, 4,000 sessions and the cutoff %d",
			len(body), len(named), before, jose.MaxJWSBytes, now.Unix()-4)
	}
	ks, err := jose.ParseJWKS([]byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","alg":"EdDSA","kid":"k1","x":"` +
		base64.RawURLEncoding.EncodeToString(f.signer.pub) + `"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	rl, err := jose.VerifyRevocationList(body, ks, []jose.Algorithm{jose.EdDSA}, "https://auth.example.test", 0, f.clock.Now().Unix())
	if err != nil || len(rl.SessionIDs) != len(named) || rl.Before != now.Unix()-4 {
		t.Fatalf("the verifier's check: %d ids, before %d, %v", len(rl.SessionIDs), rl.Before, err)
	}
	t.Logf("%d revoked, %d named, list %d bytes", 6000, len(named), len(body))
}
