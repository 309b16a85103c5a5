package auth

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/store"
	"github.com/golang-jwt/jwt/v5"
)

// AccessClaims are the claims of an access token: iss, aud (a single string), sub (user
// id), sid (session id), roles, amr (how the session signed in), jti, iat, nbf, exp, and
// sess_exp (the session's absolute expiry, so that a WebSocket authorized by this
// short-lived token can be closed when its session ends).
type AccessClaims struct {
	Issuer    string   `json:"iss"`
	Audience  string   `json:"aud"`
	Subject   string   `json:"sub"`
	SessionID string   `json:"sid"`
	Roles     []string `json:"roles"`
	// AuthMethods is the amr claim (RFC 8176), always present: see amr.
	AuthMethods []string `json:"amr"`
	TokenID     string   `json:"jti"`
	IssuedAt    int64    `json:"iat"`
	NotBefore   int64    `json:"nbf"`
	ExpiresAt   int64    `json:"exp"`
	// SessionExpiresAt is the session's absolute expiry.
	SessionExpiresAt int64 `json:"sess_exp"`
}

var _ jwt.Claims = AccessClaims{}

func numericDate(v int64) *jwt.NumericDate { return jwt.NewNumericDate(time.Unix(v, 0)) }
func (c AccessClaims) GetExpirationTime() (*jwt.NumericDate, error) {
	return numericDate(c.ExpiresAt), nil
}
func (c AccessClaims) GetIssuedAt() (*jwt.NumericDate, error)  { return numericDate(c.IssuedAt), nil }
func (c AccessClaims) GetNotBefore() (*jwt.NumericDate, error) { return numericDate(c.NotBefore), nil }
func (c AccessClaims) GetIssuer() (string, error)              { return c.Issuer, nil }
func (c AccessClaims) GetSubject() (string, error)             { return c.Subject, nil }
func (c AccessClaims) GetAudience() (jwt.ClaimStrings, error) {
	return jwt.ClaimStrings{c.Audience}, nil
}

// amr is the amr claim (RFC 8176 method values) of a session whose sign-in proved
// secondFactor (store.Session.SecondFactor): the password alone is ["pwd"]; a TOTP code
// adds "otp" and "mfa"; a recovery code adds "mfa" only (RFC 8176's "otp" names the
// codes of a generator, HOTP or TOTP, which a recovery code is not). An edge route that
// requires a second factor looks for "mfa"; a token without amr (issued by a release
// before it) has none.
func amr(secondFactor string) []string {
	switch secondFactor {
	case factorTOTP:
		return []string{"pwd", "otp", "mfa"}
	case factorRecoveryCode:
		return []string{"pwd", "mfa"}
	}
	return []string{"pwd"}
}

// issueAccess signs an access token for the user's session at now, with token id jti.
// Its claims follow from the arguments alone (times in whole seconds; amr from the
// session's second factor), so the same arguments sign the same claims: with a
// deterministic signature (keys.Manager's) under the same key, the very same token (see
// Refresh).
func (s *Service) issueAccess(ctx context.Context, userID string, sess store.Session, roles []string, now time.Time, jti string) (string, time.Time, error) {
	if roles == nil {
		roles = []string{}
	}
	// Never past the session's absolute expiry: verifiers check exp, and a token must
	// not keep a session alive at the edges after it ended (sess_exp binds sockets).
	exp := now.Add(s.cfg.AccessTTL)
	if sess.AbsoluteExpires.Before(exp) {
		exp = sess.AbsoluteExpires
	}
	c := AccessClaims{
		Issuer: s.cfg.Issuer, Audience: s.cfg.Audience, Subject: userID, SessionID: sess.ID,
		Roles: roles, AuthMethods: amr(sess.SecondFactor), TokenID: jti,
		IssuedAt: now.Unix(), NotBefore: now.Unix(), ExpiresAt: exp.Unix(),
		SessionExpiresAt: sess.AbsoluteExpires.Unix(),
	}
	tok, err := s.signer.Sign(ctx, c, AccessTokenType)
	if err != nil {
		return "", time.Time{}, errors.Join(errors.New("auth: sign access token"), err)
	}
	return tok, time.Unix(exp.Unix(), 0), nil
}

// successorTokenID is the jti of the access token issued with a rotation: derived from
// the successor refresh token's secret, so that a grace replay, which can open the
// successor, signs the same claims again; it reveals nothing of the secret.
func successorTokenID(successor refreshToken) string {
	id, err := hkdf.Key(sha256.New, successor.secret, []byte("edgeauth access token id v1"), successor.sessionID, jtiBytes)
	if err != nil {
		panic("auth: hkdf: " + err.Error()) // only for lengths out of range
	}
	return base64.RawURLEncoding.EncodeToString(id)
}

// Sealing of a successor (grace replay without storing plaintext).
//
// key = HKDF-SHA256(ikm = parent token's secret, salt = sealSalt, info = parent hash),
// box = nonce(12) || AES-256-GCM(key, nonce, successor refresh token, aad = parent hash).
// The database holds the box and SHA-256(parent secret), neither of which yields the
// key: only a holder of the parent token can open it.
const sealSalt = "edgeauth refresh successor v2"

func sealKey(parent refreshToken) (cipher.AEAD, error) {
	key, err := hkdf.Key(sha256.New, parent.secret, []byte(sealSalt), string(parent.hash), 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func seal(parent refreshToken, successor string) ([]byte, error) {
	aead, err := sealKey(parent)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(successor)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return aead.Seal(nonce, nonce, []byte(successor), parent.hash), nil
}

var errSealed = errors.New("auth: cannot open sealed successor")

// unseal opens the box sealed under parent and returns the successor it holds.
func unseal(parent refreshToken, box []byte) (string, refreshToken, error) {
	aead, err := sealKey(parent)
	if err != nil {
		return "", refreshToken{}, err
	}
	if len(box) < aead.NonceSize() {
		return "", refreshToken{}, errSealed
	}
	plain, err := aead.Open(nil, box[:aead.NonceSize()], box[aead.NonceSize():], parent.hash)
	if err != nil {
		return "", refreshToken{}, errSealed
	}
	t, ok := parseRefreshToken(string(plain))
	if !ok || t.sessionID != parent.sessionID || t.generation != parent.generation+1 {
		return "", refreshToken{}, errSealed
	}
	return string(plain), t, nil
}
