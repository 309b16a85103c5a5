package auth

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/store"
	"github.com/golang-jwt/jwt/v5"
)

// AccessClaims are the claims of an access token: iss, aud (a single string), sub (user
// id), sid (session id), roles, jti, iat, nbf, exp, and sess_exp (the session's absolute
// expiry, so that a WebSocket authorized by this short-lived token can be closed when
// its session ends).
type AccessClaims struct {
	Issuer    string   `json:"iss"`
	Audience  string   `json:"aud"`
	Subject   string   `json:"sub"`
	SessionID string   `json:"sid"`
	Roles     []string `json:"roles"`
	TokenID   string   `json:"jti"`
	IssuedAt  int64    `json:"iat"`
	NotBefore int64    `json:"nbf"`
	ExpiresAt int64    `json:"exp"`
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

// issueAccess signs an access token for the user's session at now.
func (s *Service) issueAccess(ctx context.Context, userID string, sess store.Session, roles []string, now time.Time) (string, time.Time, error) {
	if roles == nil {
		roles = []string{}
	}
	exp := now.Add(s.cfg.AccessTTL)
	c := AccessClaims{
		Issuer: s.cfg.Issuer, Audience: s.cfg.Audience, Subject: userID, SessionID: sess.ID,
		Roles: roles, TokenID: randomToken(jtiBytes),
		IssuedAt: now.Unix(), NotBefore: now.Unix(), ExpiresAt: exp.Unix(),
		SessionExpiresAt: sess.AbsoluteExpires.Unix(),
	}
	tok, err := s.signer.Sign(ctx, c, AccessTokenType)
	if err != nil {
		return "", time.Time{}, errors.Join(errors.New("auth: sign access token"), err)
	}
	return tok, time.Unix(exp.Unix(), 0), nil
}

// Sealing of a successor's tokens (grace replay without storing plaintext).
//
// key = HKDF-SHA256(ikm = parent refresh token bytes, salt = sealSalt, info = parent hash),
// box = nonce(12) || AES-256-GCM(key, nonce, json(sealedTokens), aad = parent hash).
// The database holds the box and SHA-256(parent), neither of which yields the key.
const sealSalt = "edgeauth refresh successor v1"

type sealedTokens struct {
	Access        string `json:"a"`
	AccessExpires int64  `json:"ae"`
	Refresh       string `json:"r"`
}

func sealKey(parentRaw, parentHash []byte) (cipher.AEAD, error) {
	key, err := hkdf.Key(sha256.New, parentRaw, []byte(sealSalt), string(parentHash), 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func seal(parentRaw, parentHash []byte, t sealedTokens) ([]byte, error) {
	aead, err := sealKey(parentRaw, parentHash)
	if err != nil {
		return nil, err
	}
	plain, err := json.Marshal(t)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return aead.Seal(nonce, nonce, plain, parentHash), nil
}

var errSealed = errors.New("auth: cannot open sealed successor")

func unseal(parentRaw, parentHash, box []byte) (sealedTokens, error) {
	var t sealedTokens
	aead, err := sealKey(parentRaw, parentHash)
	if err != nil {
		return t, err
	}
	if len(box) < aead.NonceSize() {
		return t, errSealed
	}
	plain, err := aead.Open(nil, box[:aead.NonceSize()], box[aead.NonceSize():], parentHash)
	if err != nil {
		return t, errSealed
	}
	if err := json.Unmarshal(plain, &t); err != nil {
		return t, errSealed
	}
	return t, nil
}
