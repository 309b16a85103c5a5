package demoapp

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// The chat keeps messages of at most 500 bytes: a client sending a message of many
// megabytes is cut off (1009) instead of having the whole message buffered in memory.
func TestLiveBoundsMessageSize(t *testing.T) {
	srv := httptest.NewServer(Live())
	defer srv.Close()
	h := http.Header{"X-Edgeauth-Subject": {"user-1"}, "X-Edgeauth-Session": {"session-1"}}
	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), h)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.ReadMessage() // "* user-1/sessio joined"
	big := bytes.Repeat([]byte("x"), 64<<20)
	c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	werr := c.WriteMessage(websocket.TextMessage, big)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, _, err := c.ReadMessage()
		var ce *websocket.CloseError
		if errors.As(err, &ce) && ce.Code == websocket.CloseMessageTooBig {
			return
		}
		if err != nil {
			if werr != nil { // cut off while sending: refused, not buffered
				return
			}
			t.Fatalf("a 64 MiB message was read whole (write %v, then %v)", werr, err)
		}
	}
}
