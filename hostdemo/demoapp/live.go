package demoapp

import (
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/edgeauth/edgeauth/verifier"
	"github.com/gorilla/websocket"
)

// LivePath is where the demo's live page opens its WebSocket (through the edge, which
// authorizes it and relays it to Live).
const LivePath = "/app/live/socket"

// maxMessage bounds a message Live reads (a chat line, with room for white space).
const maxMessage = 4 << 10

// Live is the demo's WebSocket server: a chat room for everyone signed in. It sits
// behind the edge (wsauth.Proxy) and trusts the identity headers the edge sets, so it
// must only be reachable through the edge (hostdemo serves it on a loopback port of
// its own). The edge closes a connection when its session ends; Live only sees the
// close.
func Live() http.Handler {
	room := &room{conns: map[*websocket.Conn]chan string{}}
	up := websocket.Upgrader{HandshakeTimeout: 10 * time.Second}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who := r.Header.Get(verifier.HeaderSubject)
		sid := r.Header.Get(verifier.HeaderSession)
		if who == "" || sid == "" {
			http.Error(w, "no identity: reach this server through the edge", http.StatusUnauthorized)
			return
		}
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		// A chat line is at most 500 bytes: a larger message is refused (1009) as it
		// arrives, not read whole into memory first.
		c.SetReadLimit(maxMessage)
		name := who[:min(8, len(who))] + "/" + sid[:min(6, len(sid))]
		room.join(c)
		defer room.leave(c)
		room.say("* " + name + " joined")
		for {
			_, msg, err := c.ReadMessage()
			if err != nil {
				room.say("* " + name + " left")
				return
			}
			text := strings.TrimSpace(string(msg))
			if text != "" && len(text) <= 500 {
				room.say(name + ": " + text)
			}
		}
	})
}

// room broadcasts to every connection, in order: each connection has a queue and one
// writer (a connection allows one writer at a time); a connection whose queue is full
// misses messages rather than slowing the room.
type room struct {
	mu    sync.Mutex
	conns map[*websocket.Conn]chan string
}

func (r *room) join(c *websocket.Conn) {
	q := make(chan string, 64)
	r.mu.Lock()
	r.conns[c] = q
	r.mu.Unlock()
	go func() {
		for text := range q {
			c.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if c.WriteMessage(websocket.TextMessage, []byte(text)) != nil {
				return
			}
		}
	}()
}

func (r *room) leave(c *websocket.Conn) {
	r.mu.Lock()
	close(r.conns[c])
	delete(r.conns, c)
	r.mu.Unlock()
}

func (r *room) say(text string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, q := range r.conns {
		select {
		case q <- text:
		default:
		}
	}
}
