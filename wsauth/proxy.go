package wsauth

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/edgeauth/edgeauth/sessionauth"
	"github.com/edgeauth/edgeauth/verifier"
	"github.com/gorilla/websocket"
)

// Proxy authorizes WebSocket upgrades and relays each authorized connection to an
// upstream WebSocket server, with the identity headers set (X-Edgeauth-Subject,
// -Session, -Roles, -Expires-At; every client-sent spelling of them removed first, by
// verifier.SetIdentityHeaders). When the session ends both sides are closed with the
// same close code; when either side closes, the other is closed with its code, and when
// the upstream drops the connection without a close frame, or stops reading it, the
// client is closed with CloseUpstreamGone (1011 upstream_gone: reconnect later).
type Proxy struct {
	// Server authorizes the upgrades and holds the client connections.
	Server *Server
	// Upstream is the upstream server's base URL (ws://, wss://, http:// or https://);
	// the request's path is appended to its path, the request's query to its query.
	Upstream *url.URL
	// Dialer connects to the upstream; default a websocket.Dialer with a 10 s
	// handshake timeout.
	Dialer *websocket.Dialer
	// WriteTimeout bounds how long a write to either side may stall (between two
	// successive writes of a message, not the whole of a long one) before the relay
	// gives that side up: an upstream that stops reading closes the client with
	// CloseUpstreamGone, a client that stops reading closes the upstream with 1001.
	// Default 10 s.
	WriteTimeout time.Duration
}

const defaultProxyWriteTimeout = 10 * time.Second

// Refused upstream answers.
var (
	RefusalUpstream = sessionauth.Refusal{Status: http.StatusBadGateway, Code: "upstream_unavailable",
		Message: "the WebSocket server behind this edge did not accept the connection"}
	RefusalNotWebSocket = sessionauth.Refusal{Status: http.StatusBadRequest, Code: "not_websocket",
		Message: "this path accepts WebSocket upgrades only"}
)

// hopHeaders are not relayed: hop-by-hop headers and the handshake's own (the dialer
// sets them).
var hopHeaders = []string{"Connection", "Upgrade", "Keep-Alive", "Proxy-Connection", "Proxy-Authorization",
	"Te", "Trailer", "Transfer-Encoding", "Sec-Websocket-Key", "Sec-Websocket-Version", "Sec-Websocket-Extensions",
	"Sec-Websocket-Accept"}

// Authorize checks an upgrade request as ServeHTTP does, without serving it
// (Server.Authorize).
func (p *Proxy) Authorize(r *http.Request) (sessionauth.Identity, error) {
	return p.Server.Authorize(r)
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) { p.ServePermitted(w, r, nil) }

// RefuseOrigin answers r 403 origin_not_allowed and reports true when the Server's
// CheckOrigin refuses it; it reads nothing of r's session. edge.Gate.RouteRules calls
// it before deciding r, so that the answer to another site's page is this one whatever
// the gate would have said (403 missing_role, 400 invalid_path, 503 unavailable).
func (p *Proxy) RefuseOrigin(w http.ResponseWriter, r *http.Request) bool {
	if err := p.Server.CheckOrigin(r); err != nil {
		WriteRefusal(w, err)
		return true
	}
	return false
}

// ServePermitted serves r as ServeHTTP does, and asks permit, when not nil, about the
// identity the Server authorized r for, once, before the upstream is dialled: an error
// refuses the upgrade with WriteRefusal (sessionauth.ErrMissingRole: 403 missing_role).
// A route's rules (edge.Gate.RouteRules: the roles a path needs) are checked this way
// on the identity the socket is opened for, whatever token a check in front of the
// proxy read.
func (p *Proxy) ServePermitted(w http.ResponseWriter, r *http.Request, permit func(sessionauth.Identity) error) {
	id, err := p.Server.Authorize(r)
	if err == nil && permit != nil {
		err = permit(id)
	}
	if err != nil {
		WriteRefusal(w, err)
		return
	}
	if !websocket.IsWebSocketUpgrade(r) {
		RefusalNotWebSocket.Write(w)
		return
	}
	up, resp, err := p.dial(r, id)
	if err != nil {
		// The upstream's host, as edge.ProxyError logs it: the URL's query (kept, and the
		// client's appended) may hold an API key or a token.
		p.Server.log.Warn("wsauth: upstream refused the connection", "upstream", p.Upstream.Host, "err", err)
		if resp != nil && resp.StatusCode == http.StatusUnauthorized || resp != nil && resp.StatusCode == http.StatusForbidden {
			sessionauth.Refusal{Status: resp.StatusCode, Code: "upstream_refused", Message: "the WebSocket server refused the connection"}.Write(w)
			return
		}
		RefusalUpstream.Write(w)
		return
	}
	var answer http.Header
	if proto := up.Subprotocol(); proto != "" {
		answer = http.Header{"Sec-Websocket-Protocol": {proto}}
	}
	// The session ending closes the upstream with the same code.
	var upMu sync.Mutex
	closeUp := func(code int, reason string) {
		upMu.Lock()
		defer upMu.Unlock()
		_ = up.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(p.Server.handshake))
		time.AfterFunc(p.Server.handshake, func() { _ = up.Close() })
	}
	// The upstream chose the subprotocol (answer, or none): the Server's
	// Upgrader.Subprotocols are for its own sockets and must not choose another.
	u := p.Server.upgrader
	u.Subprotocols = nil
	c, err := p.Server.upgradeAuthorized(&u, w, r, answer, id, closeUp)
	if err != nil {
		_ = up.Close()
		return
	}
	p.relay(c, up)
}

// dial opens the upstream connection with the client's headers (hop-by-hop and
// handshake headers removed; Host and Origin kept, as a reverse proxy keeps them) and
// the identity headers set.
func (p *Proxy) dial(r *http.Request, id sessionauth.Identity) (*websocket.Conn, *http.Response, error) {
	u := *p.Upstream
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	}
	// The path as the client encoded it (an escaped "/" stays inside its segment), as
	// httputil.ReverseProxy forwards it.
	u.RawPath = strings.TrimSuffix(p.Upstream.EscapedPath(), "/") + r.URL.EscapedPath()
	u.Path = strings.TrimSuffix(u.Path, "/") + r.URL.Path
	// The upstream's own query first, then the request's, as httputil.ReverseProxy
	// joins them.
	switch {
	case u.RawQuery == "":
		u.RawQuery = r.URL.RawQuery
	case r.URL.RawQuery != "":
		u.RawQuery += "&" + r.URL.RawQuery
	}
	h := r.Header.Clone()
	for _, name := range hopHeaders {
		h.Del(name)
	}
	if c := r.Header.Values("Connection"); len(c) > 0 {
		for _, v := range c {
			for _, token := range strings.Split(v, ",") {
				h.Del(strings.TrimSpace(token))
			}
		}
	}
	verifier.SetIdentityHeaders(h, &verifier.Identity{Subject: id.Subject, SessionID: id.SessionID, Roles: id.Roles, ExpiresAt: id.ExpiresAt.Unix(), SecondFactor: id.SecondFactor})
	h.Set("Host", r.Host) // as the HTTP reverse proxy does: the upstream sees the site's host (and Origin)
	if ip, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		if prior := h.Get("X-Forwarded-For"); prior != "" {
			ip = prior + ", " + ip
		}
		h.Set("X-Forwarded-For", ip)
	}
	d := p.Dialer
	if d == nil {
		d = &websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	}
	ctx, cancel := context.WithTimeout(r.Context(), 15*time.Second)
	defer cancel()
	conn, resp, err := d.DialContext(ctx, u.String(), h)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	return conn, resp, err
}

// relay copies messages both ways until either side ends, then closes the other with
// the close code the ending side gave: a close frame's code (1000 for one without a
// code), or, when the upstream ended without a close frame (it crashed, or the network
// to it failed) or stopped reading, CloseUpstreamGone, and when the client did, 1001
// going away; never 1000, which would say the conversation was ended on purpose.
func (p *Proxy) relay(c *Conn, up *websocket.Conn) {
	defer c.Close()
	defer up.Close()
	stall := p.WriteTimeout
	if stall <= 0 {
		stall = defaultProxyWriteTimeout
	}
	errc := make(chan copyEnd, 2)
	go func() { errc <- copyMessages(up, c.Conn, false, stall) }() // client -> upstream
	go func() { errc <- copyMessages(c.Conn, up, true, stall) }()  // upstream -> client
	end := <-errc
	if code, _ := c.CloseCode(); code != 0 {
		<-errc // the session ended: both sides are being closed with its code
		return
	}
	code, reason := websocket.CloseNormalClosure, ""
	var ce *websocket.CloseError
	switch {
	case errors.As(end.err, &ce) && ce.Code != websocket.CloseNoStatusReceived && ce.Code != websocket.CloseAbnormalClosure:
		code, reason = ce.Code, ce.Text
	case errors.As(end.err, &ce) && ce.Code == websocket.CloseNoStatusReceived:
		// A close frame without a code: a normal closure.
	case end.upstream:
		code, reason = CloseUpstreamGone, "upstream_gone"
	default:
		// The client went without a close frame (its network, its process), or stopped
		// reading: gone, as a browser leaving the page says it, not a normal closure.
		code = websocket.CloseGoingAway
	}
	deadline := time.Now().Add(p.Server.handshake)
	msg := websocket.FormatCloseMessage(code, reason)
	_ = up.WriteControl(websocket.CloseMessage, msg, deadline)
	_ = c.WriteControl(websocket.CloseMessage, msg, deadline)
	select {
	case <-errc:
	case <-time.After(p.Server.handshake):
	}
}

// copyEnd is how a copyMessages ended: its error, and whether the side that failed is
// the upstream (reading it, or writing to it).
type copyEnd struct {
	err      error
	upstream bool
}

// copyMessages relays data messages from src to dst until src fails (its close frame
// included) or dst refuses a write, or a write to dst stalls for stall;
// srcIsUpstream says which side src is.
func copyMessages(dst, src *websocket.Conn, srcIsUpstream bool, stall time.Duration) copyEnd {
	for {
		kind, r, err := src.NextReader()
		if err != nil {
			return copyEnd{err, srcIsUpstream}
		}
		_ = dst.SetWriteDeadline(time.Now().Add(stall))
		w, err := dst.NextWriter(kind)
		if err != nil {
			return copyEnd{err, !srcIsUpstream}
		}
		rr := &readerErr{r: r}
		if _, err := io.Copy(stallWriter{w, dst, stall}, rr); err != nil {
			// A failed read of src, or a failed write to dst.
			return copyEnd{err, srcIsUpstream == (rr.err != nil)}
		}
		if err := w.Close(); err != nil {
			return copyEnd{err, !srcIsUpstream}
		}
	}
}

// readerErr is a reader that remembers its error (io.EOF aside), so that a copy can
// tell a failed read from a failed write.
type readerErr struct {
	r   io.Reader
	err error
}

func (r *readerErr) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF {
		r.err = err
	}
	return n, err
}

// stallWriter is a message writer whose every write gets stall more to reach the peer
// (the connection's write deadline, which each frame the writer sends is held to).
type stallWriter struct {
	w     io.Writer
	conn  *websocket.Conn
	stall time.Duration
}

func (s stallWriter) Write(p []byte) (int, error) {
	_ = s.conn.SetWriteDeadline(time.Now().Add(s.stall))
	return s.w.Write(p)
}
