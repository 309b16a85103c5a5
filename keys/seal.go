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
// so a wrong KEK is reported as such, distinct from a tampered ciphertext, and a KEK
// rotation can tell which KEK sealed each row: rows sealed under one of
// Config.PreviousKEKs are opened with it and re-sealed under the current KEK by the
// next Advance. The additional authenticated data
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
	aead     cipher.AEAD // nil: plaintext (AllowPlaintext without KEK)
	id       [kekIDSize]byte
	previous map[[kekIDSize]byte]cipher.AEAD // earlier KEKs, for opening only
	plain    bool                            // plaintext rows may be opened
}

func newSealer(kek []byte, previous [][]byte, allowPlaintext bool) (*sealer, error) {
	s := &sealer{plain: allowPlaintext, previous: map[[kekIDSize]byte]cipher.AEAD{}}
	if len(kek) == 0 {
		if len(previous) != 0 {
			return nil, fmt.Errorf("%w: previous key-encryption keys without a current one", ErrInvalidConfig)
		}
		return s, nil
	}
	var err error
	if s.aead, s.id, err = newKEK(kek); err != nil {
		return nil, err
	}
	for _, p := range previous {
		aead, id, err := newKEK(p)
		if err != nil {
			return nil, err
		}
		if id != s.id {
			s.previous[id] = aead
		}
	}
	return s, nil
}

// newKEK returns the AEAD and the id of a key-encryption key.
func newKEK(kek []byte) (cipher.AEAD, [kekIDSize]byte, error) {
	var id [kekIDSize]byte
	if len(kek) != KEKSize {
		return nil, id, fmt.Errorf("%w: key-encryption key is %d bytes, want %d", ErrInvalidConfig, len(kek), KEKSize)
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, id, fmt.Errorf("keys: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, id, fmt.Errorf("keys: %w", err)
	}
	mac := hmac.New(sha256.New, kek)
	mac.Write([]byte(kekIDLabel))
	copy(id[:], mac.Sum(nil))
	return aead, id, nil
}

// current reports whether stored is sealed under the current KEK (or, with no KEK,
// stored in plaintext): false means the next Advance re-seals it.
func (s *sealer) current(stored []byte) bool {
	if s.aead == nil {
		return len(stored) > 0 && stored[0] == sealPlain
	}
	return len(stored) >= 1+kekIDSize && stored[0] == sealAESGCM && hmac.Equal(stored[1:1+kekIDSize], s.id[:])
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
		aead := s.aead
		if !hmac.Equal(header[1:], s.id[:]) {
			var ok bool
			if aead, ok = s.previous[[kekIDSize]byte(header[1:])]; !ok {
				return nil, fmt.Errorf("%w: key %s was sealed by KEK id %s, the configured KEK has id %s (and %d previous KEKs)",
					ErrWrongKEK, kid, hex.EncodeToString(header[1:]), hex.EncodeToString(s.id[:]), len(s.previous))
			}
		}
		nonce := stored[1+kekIDSize : 1+kekIDSize+12]
		pt, err := aead.Open(nil, nonce, stored[1+kekIDSize+12:], sealAAD(header, kid, alg))
		if err != nil {
			return nil, fmt.Errorf("%w: key %s", ErrDecrypt, kid)
		}
		return pt, nil
	}
	return nil, fmt.Errorf("%w: key %s: unknown storage version %d", ErrDecrypt, kid, stored[0])
}
