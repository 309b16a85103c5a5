package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// observer holds each replica's revocation stream and notes when every `revoked`
// event arrived: the moment a replica had pushed the revocation, the start of the
// push path (stream, the WebSocket server's source, wsauth, the close frame). The
// events are only timed here, not verified (the servers verify them).
type observer struct {
	mu   sync.Mutex
	cond *sync.Cond
	seen []map[string]time.Time // per replica: session id -> arrival
}

func (e *env) observeStreams(ctx context.Context) (*observer, error) {
	o := &observer{}
	o.cond = sync.NewCond(&o.mu)
	for i := range e.replicas {
		o.seen = append(o.seen, map[string]time.Time{})
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.replicas[i]+"/.well-known/edgeauth/revocations/stream", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return nil, fmt.Errorf("revocation stream: %s", resp.Status)
		}
		go func() {
			defer resp.Body.Close()
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(make([]byte, 1<<16), 1<<20)
			revoked := false
			for sc.Scan() {
				line := sc.Text()
				switch {
				case line == "event: revoked":
					revoked = true
				case line == "":
					revoked = false
				case revoked && strings.HasPrefix(line, "data: "):
					if sid := sessionOf(strings.TrimPrefix(line, "data: ")); sid != "" {
						o.mu.Lock()
						if _, dup := o.seen[i][sid]; !dup {
							o.seen[i][sid] = time.Now()
						}
						o.cond.Broadcast()
						o.mu.Unlock()
					}
				}
			}
		}()
	}
	return o, nil
}

// sessionOf is the sid of a revocation event's JWS payload.
func sessionOf(jws string) string {
	parts := strings.Split(jws, ".")
	if len(parts) != 3 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var p struct {
		SID string `json:"sid"`
	}
	json.Unmarshal(b, &p)
	return p.SID
}

// wait returns when replica i's stream delivered the revocation of sid (false if it
// has not within 30 s).
func (o *observer) wait(ctx context.Context, i int, sid string) (time.Time, bool) {
	guard := time.AfterFunc(30*time.Second, func() { o.mu.Lock(); o.cond.Broadcast(); o.mu.Unlock() })
	defer guard.Stop()
	deadline := time.Now().Add(30 * time.Second)
	o.mu.Lock()
	defer o.mu.Unlock()
	for {
		if at, ok := o.seen[i][sid]; ok {
			return at, true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return time.Time{}, false
		}
		o.cond.Wait()
	}
}
