package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// Stored private keys begin with a version byte naming how they are protected, so the
// format (and the key-encryption key) can change later without guessing:
//
//	0x00 || PKCS#8                                   plaintext (development only)
//	0x01 || kekID[8] || nonce[12] || AES-256-GCM(PKCS#8)
//
// kekID identifies the key-encryption key (HMAC-SHA256(KEK, label), first 8 bytes),
// so a wrong KEK is reported as such, distinct from a tampered ciphertext, and a later
// KEK rotation can tell which KEK sealed each row. The additional authenticated data
// binds the ciphertext to its header, kid and alg: a sealed key copied onto another
// row fails to open.
const (
	sealPlain  byte = 0x00
	sealAESGCM byte = 0x01

	kekIDSize   = 8
	kekIDLabel  = "edgeauth key-encryption key id v1"
	sealAADBase = "edgeauth signing key v1\x00"
)

type sealer struct {
	aead  cipher.AEAD // nil: plaintext (AllowPlaintext without KEK)
	id    [kekIDSize]byte
	plain bool // plaintext rows may be opened
}

func newSealer(kek []byte, allowPlaintext bool) (*sealer, error) {
	s := &sealer{plain: allowPlaintext}
	if len(kek) == 0 {
		return s, nil
	}
	if len(kek) != KEKSize {
		return nil, fmt.Errorf("%w: key-encryption key is %d bytes, want %d", ErrInvalidConfig, len(kek), KEKSize)
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	if s.aead, err = cipher.NewGCM(block); err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	mac := hmac.New(sha256.New, kek)
	mac.Write([]byte(kekIDLabel))
	copy(s.id[:], mac.Sum(nil))
	return s, nil
}

func sealAAD(header []byte, kid, alg string) []byte {
	aad := make([]byte, 0, len(sealAADBase)+len(header)+len(kid)+len(alg)+2)
	aad = append(aad, sealAADBase...)
	aad = append(aad, header...)
	aad = append(aad, kid...)
	aad = append(aad, 0)
	aad = append(aad, alg...)
	return aad
}

// seal protects the PKCS #8 bytes of the key kid for storage.
func (s *sealer) seal(kid, alg string, pkcs8 []byte) ([]byte, error) {
	if s.aead == nil {
		return append([]byte{sealPlain}, pkcs8...), nil
	}
	out := make([]byte, 1+kekIDSize+12, 1+kekIDSize+12+len(pkcs8)+s.aead.Overhead())
	out[0] = sealAESGCM
	copy(out[1:], s.id[:])
	nonce := out[1+kekIDSize:]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("keys: nonce: %w", err)
	}
	return s.aead.Seal(out, nonce, pkcs8, sealAAD(out[:1+kekIDSize], kid, alg)), nil
}

// open returns the PKCS #8 bytes sealed for kid. Errors name the kid, never the data.
func (s *sealer) open(kid, alg string, stored []byte) ([]byte, error) {
	if len(stored) == 0 {
		return nil, fmt.Errorf("%w: key %s: empty", ErrDecrypt, kid)
	}
	switch stored[0] {
	case sealPlain:
		if !s.plain {
			return nil, fmt.Errorf("%w: key %s is stored in plaintext and plaintext keys are not allowed (development only)", ErrPlaintextKey, kid)
		}
		return stored[1:], nil
	case sealAESGCM:
		if s.aead == nil {
			return nil, fmt.Errorf("%w: key %s", ErrNoKEK, kid)
		}
		if len(stored) < 1+kekIDSize+12+s.aead.Overhead() {
			return nil, fmt.Errorf("%w: key %s: too short", ErrDecrypt, kid)
		}
		header := stored[:1+kekIDSize]
		if !hmac.Equal(header[1:], s.id[:]) {
			return nil, fmt.Errorf("%w: key %s was sealed by KEK id %s, the configured KEK has id %s",
				ErrWrongKEK, kid, hex.EncodeToString(header[1:]), hex.EncodeToString(s.id[:]))
		}
		nonce := stored[1+kekIDSize : 1+kekIDSize+12]
		pt, err := s.aead.Open(nil, nonce, stored[1+kekIDSize+12:], sealAAD(header, kid, alg))
		if err != nil {
			return nil, fmt.Errorf("%w: key %s", ErrDecrypt, kid)
		}
		return pt, nil
	}
	return nil, fmt.Errorf("%w: key %s: unknown storage version %d", ErrDecrypt, kid, stored[0])
}
