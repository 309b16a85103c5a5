// Package breached asks a k-anonymity range service, such as Have I Been Pwned's
// Pwned Passwords (https://api.pwnedpasswords.com), whether a password appears in
// known data breaches (OWASP ASVS 5.0, 6.2.12).
//
// Only the first five hexadecimal characters of the password's SHA-1 leave the
// process: the service answers with the suffixes of every breached password sharing
// them, padded with decoys ("Add-Padding: true") so that the answer's size says
// nothing either, and the match is made here.
package breached

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultTimeout bounds one question, the connection included.
const DefaultTimeout = 3 * time.Second

// maxAnswer bounds what is read of an answer: a padded range holds 800 to 1,000 lines
// of about 40 bytes. A longer answer is an error: what is past the bound may hold the
// suffix asked about.
const maxAnswer = 1 << 20

// Client asks one range service. Safe for concurrent use.
type Client struct {
	base string // without a trailing slash; ranges are base + "/range/XXXXX"
	http *http.Client
}

// New returns a client of the service at baseURL (https; http only on a loopback
// host, for tests and local mirrors), each question bounded by timeout
// (DefaultTimeout when 0).
func New(baseURL string, timeout time.Duration) (*Client, error) {
	if err := CheckURL(baseURL); err != nil {
		return nil, err
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Client{base: strings.TrimSuffix(baseURL, "/"), http: &http.Client{Timeout: timeout, CheckRedirect: safeRedirect}}, nil
}

// safeRedirect follows a redirect only to an address the service's own URL could have
// been (https, or http on a loopback host): the request names the range, which must
// not go out in clear. At most 10, as net/http's default.
func safeRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if u := req.URL; u.Scheme != "https" && (u.Scheme != "http" || !isLoopback(u.Hostname())) {
		return fmt.Errorf("refused a redirect to %s://%s: https only (http only on a loopback host)", u.Scheme, u.Host)
	}
	return nil
}

// CheckURL reports why baseURL cannot be a range service's address, or nil.
func CheckURL(baseURL string) error {
	u, err := url.Parse(baseURL)
	switch {
	case err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return errors.New("breached: the service's URL must be an absolute URL without user, query or fragment")
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	}
	return errors.New("breached: the service's URL must be https (http only on a loopback host)")
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Breached reports whether the password appears in the service's breaches. An error
// means the service did not answer as it should (unreachable, slow, a status other
// than 200, an answer that does not parse): the caller decides what that means. Its
// text names the service, never the range asked for.
func (c *Client) Breached(ctx context.Context, password string) (bool, error) {
	sum := sha1.Sum([]byte(password))
	digest := strings.ToUpper(hex.EncodeToString(sum[:]))
	prefix, suffix := digest[:5], digest[5:]
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/range/"+prefix, nil)
	if err != nil {
		return false, fmt.Errorf("breached: %w", err)
	}
	req.Header.Set("Add-Padding", "true")
	req.Header.Set("User-Agent", "edgeauth")
	resp, err := c.http.Do(req)
	if err != nil {
		// Not the *url.Error as it is: its text names the request's URL, whose range is
		// five characters of the password's SHA-1, and this error is logged.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return false, fmt.Errorf("breached: range query to %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("breached: range query answered %s", resp.Status)
	}
	lr := &io.LimitedReader{R: resp.Body, N: maxAnswer + 1}
	found, err := match(lr, suffix)
	if err == nil && lr.N == 0 {
		return false, fmt.Errorf("breached: the answer is longer than %d bytes", maxAnswer)
	}
	return found, err
}

// match reads a range answer ("SUFFIX:COUNT" lines) and reports whether suffix is in
// it with a count above zero (padding lines have count 0). Any line of another shape
// makes the whole answer an error: a broken answer must not pass for "not breached".
func match(r io.Reader, suffix string) (bool, error) {
	sc := bufio.NewScanner(r)
	found := false
	lines := 0
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		s, n, ok := strings.Cut(line, ":")
		count, err := strconv.ParseUint(n, 10, 64)
		if !ok || len(s) != 35 || err != nil || !isHex(s) {
			return false, fmt.Errorf("breached: line %d of the answer is not SUFFIX:COUNT", lines+1)
		}
		lines++
		if count > 0 && strings.EqualFold(s, suffix) {
			found = true
		}
	}
	if err := sc.Err(); err != nil {
		return false, fmt.Errorf("breached: reading the answer: %w", err)
	}
	if lines == 0 {
		return false, errors.New("breached: empty answer")
	}
	return found, nil
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
