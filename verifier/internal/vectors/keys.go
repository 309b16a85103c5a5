package vectors

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
)

// Fixed test keys. They are generated from constants, never from randomness, so every
// run (and both engines) sees the same keys, JWKS and tokens. They are test keys only:
// their private halves are in this file.

// TestKey is one signing key with its public JWK.
type TestKey struct {
	KID     string
	Alg     string // "EdDSA", "ES256" or "RS256"
	Private crypto.Signer
}

// Key ids of the fixed keys.
const (
	KIDEdDSA = "ed-2026-1"
	KIDES256 = "es-2026-1"
	KIDRS256 = "rs-2026-1"
	// KIDOther is a second EdDSA key, present in the JWKS, used to sign with the
	// "wrong" key of the right algorithm.
	KIDOther = "ed-2026-2"
)

// rsaPEM is a 2048-bit RSA test key (PKCS#8).
const rsaPEM = `-----BEGIN PRIVATE KEY-----
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQCw/I+Xcqs2dDXH
hedOQm3ehi8CvYiT+cjizLc/CLsRlqeYJyyQ6yqHr6tPFDcHVqwGW+ik/jB1DELG
KVbnfjQTtEMeyb3ZUDHr6Zx7JgRFGco+yreeeWU487oHkLmXDDkYM7Q/Vfedavjb
Ird1CWKseQzZ48ZYgAujU2qJymn52jIoI5U6nwcHnA3LjtGqaqWb4p+v7lKQ+wci
PkFVVZvvP3n7ghRV73TM/4M41XwwZm1a+5h5HCE3d10tf5m6hwtUVJkwSI+zTfgQ
G40c5Nc5JTvadrBWFACUxHfKnoRsKohH5EBOoFB+G4zzdcTY1cHujffnh4IftfUT
nx6hXK1ZAgMBAAECggEAUTrpsInZmPmHQVbszZdhk9MkOm7BA6GOGMH6jLy2FyF9
NDEunCjC8VmoF3hgtUaLV7PROADOPrps30RT9ZWP00dV0wim0Nmkv/ENd9v/87Md
hupFkj+HPLdoN1auR2w9vCTm4nbTWfWh1/m8F8RB/ITmaA7Jlw7VyJVdfXZgY2KD
71YPDxsfPw1CY1Zu6IHwMy+CHwlgQ+CtgpoTqBPTpPBZDvrg7HfOld+p26pC6Uh1
b28ZkBR0R2eFUyDmXR3rMcJLnKWfzVIibCUY7j0uACo3siNV8wWSVZqHcaTP4TI+
Ylm6xtX3X7yN5PcMz5mg2hihzvKPMM+JzuS5QjKzHQKBgQDwgQZCq0VltZyr2OUp
4wvGeGVD2fpLRUE1b3MK/OJrisrYbsfSlBIAuRSfya0uel/YSKzhnoJP7awEuGOI
dzInEOv5yVdJ30bm+mmyNgf2+glvt+9KhALGxhX5bBqbQawKDMnzHshDaeedyAf8
rpoYNECzVZc5LCRkCXJo2qozkwKBgQC8Y9pQChFK945leY/1dV6CFnHmghC7t3dR
6+wwncjJJf53J25dpQYZ4+nv/lgawGOMrBHaSrcO2VUsd62TEBxIagBlD2wzYISW
hm0NWggZ1Bckow1TKV4ttA1WxDObFjP5m8+18Wj2+oR8GPpGCTT6Y1mikXnUK4E0
C7Xp0AaG4wKBgQDokPwK0DAlcH92NiE0Zhfm7lmOSWUeEHREReeLgos4z1fj/ww/
92uJQ3BMK+vJ/BBex7hV3L/KptwnHF8zgYAAAv8N5sL/7mdTyGcZK+J708H4RHej
KRC+QqLRNNZtuA2zEjbfYK7rcafGDb6bfAQKz8yZHnVDlgoCqpf2CS14/QKBgACm
T4BrKHgbtm//JVHxX6wPK8FhvXEIRu8PYzcftCuNZ/09M5I7GXRJZuse82rUMwOv
LDiWfV8dvL90gjK5oX9Wbj3q+bKLqKlkOUgMgW6lXpcPwOICiIKb1lfwQUVNpEw+
D09PT89aOc67v1Eygu5CHXMEEWl75OwrBiuSPhOFAoGBAKEE78n6EWXZ+QIky+Hv
GrAZi5jmGeWu/gQNrE64nAWCG/WT7VHftikjXfXg0eBa5xNK0tAAtGGRs9IsDxor
R6nj53mVUmMTo07LCEr75msVgguFbnB7eP7NfNTxvtbxLH0B7XuWK7Cx1RBSUqea
b3+lEsFcu1szb6q/hjZ4AH4j
-----END PRIVATE KEY-----`

// rsaPEM2 is a second RSA key, never published in the JWKS.
const rsaPEM2 = `-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCiAkU4G07ILsx8
Q2/doWwxEY3eazL1s98IIsbB8vfl2F7Fq13KOXwVKfcxAhms3AuvLcWCjRbRurmV
nUZi+DLOhVwR/wRyUc8VflWd0lEq9p+Wb7IBnFVH5Z0+cllsojVKz9gghDbPl5M2
y1Nr7DW1lBoYjSVnP8+ZCL/i+qdW0Wz7R7UYl1dFyE8cv85f3clbEJ032crtSe3K
3QQ97uhVo9zwWEzWIxtPIfxG0V77mV8M2tAJCsEiZA5eu23arpNUMxE2oNHDq1J6
Kpo7UQj3TtwH4FT+v8A+MTfNwCUe+Mb4WWftM9cUybivzNgSrkU4iFLSL8sKDNl/
w0JZc3s7AgMBAAECggEACmRy5EJ8L0MxQtdgmar9MbiajSX7Qt+i8vaoIVDgrhHP
Iob3oT1GxGTIwpAL7Za/+SDKhrFeQV3lAb/w//BD8hOD8HOXaW3uBsbv3wvawRLI
8fGATbIlllMYXyUer2VIXeAvUQaqLW7ftqgcVdP1LgyuD90eBR2Gx55UEM9bZKo4
SdzLYp7VwxVmN65PGE7Cy+zeOz9OG5xKTfexRzFNztkQUFsnWyoVciu7ntgPK4O6
GxzRLmET12WfoYS3tvYXFej562ki1PRs0hK2USBnSSfhCa4kxLr8BdZVs9YWtm4I
24YhHZy3P3arTTqCtKEhmQsXTQdRBJxRqkypVT6WwQKBgQDcZc0ooce9D2C6nLmG
rw8YBgdjmWJLa8d+cpevSFOVnRHxfOVllSyMd4N8urf/Pu+7u5wrzwW5oZD57Vud
kXzNg7l2AAAcixRIlOO0Fgv1AZvDjl8RaMHiSHU9La6G+7rwe8Y9aMzfbvEjdIdr
IzS1v6rWbisgY5s+B1IpttIPowKBgQC8LeRtzxgqSyjmw3ak0k7eeVl5bea7AT3f
fx8i2a6BPCurD17yj40NPlZKSlpJWpFs05/PoePEfZGd33M5h+1yRGoHGDzyuAa7
jhrJqCYeVrG+f+NG0iudHkSnbuD9lqbc9+MFQ/x4u6a5h+NEjc9oXgealkeGmuoK
I4j9PRA/iQKBgDUPhT79A/tuUllbFgdo6fdcrDa8XL/PqO22ZPJcNVNVx1YePZQh
P+Jpe4xx345h9pF573VUmApC7YZeMKpUtnk791CDW4ODsFRxFAjtLd/EjV2dTyH/
2H3D+AXMk7IHtM/k3Ks4Keq46PEiQt/2T+BZzqVlTJi1olBirtNAIn6FAoGBAK04
8ZXDlVMZbMVAGO8QSVmyCxMkf8iVFAewVVEXYPPGF8yXkadnTUhrobMxTntHy6aK
CApx0+EEVg8lqkPDRGhzYca2ISStEkWEQlRvXOeAlo3t26FNxqgTPM+D2ciV7XRr
G6e1NatN0ePnmuV4RPyl0goTXDQkVlyO6YNzuolBAoGALZ0fAcNZJ7VWz4Yk04nV
4GJZqpPkhiYbM3Mj1osJej7Sl12gvyd1e1lwy38L3A/wAmbKK3l3me/p1gRHoxl1
6yayB0iOgb2JRj5608Kc4pV11gRXon6mIoZcgub1exksq4tFS/xG3z/bBd4HWpF7
FL4xBWQqXEsWmproTKmwig4=
-----END PRIVATE KEY-----`

// EdDSAKey returns the fixed Ed25519 key (seed 0x01 0x02 ... 0x20).
func EdDSAKey() TestKey { return TestKey{KID: KIDEdDSA, Alg: "EdDSA", Private: edFromSeed(1)} }

// OtherEdDSAKey returns a second fixed Ed25519 key.
func OtherEdDSAKey() TestKey { return TestKey{KID: KIDOther, Alg: "EdDSA", Private: edFromSeed(101)} }

// ES256Key returns the fixed P-256 key (scalar 0x0102...20).
func ES256Key() TestKey {
	d := make([]byte, 32)
	for i := range d {
		d[i] = byte(i + 1)
	}
	priv, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d)
	if err != nil {
		panic(err)
	}
	return TestKey{KID: KIDES256, Alg: "ES256", Private: priv}
}

// RS256Key returns the fixed 2048-bit RSA key.
func RS256Key() TestKey { return TestKey{KID: KIDRS256, Alg: "RS256", Private: parseRSA(rsaPEM)} }

// UnpublishedRS256Key returns an RSA key that is in no JWKS, under the published kid.
func UnpublishedRS256Key() TestKey {
	return TestKey{KID: KIDRS256, Alg: "RS256", Private: parseRSA(rsaPEM2)}
}

// Keys returns the published keys: EdDSA, ES256, RS256 and the second EdDSA key.
func Keys() []TestKey { return []TestKey{EdDSAKey(), ES256Key(), RS256Key(), OtherEdDSAKey()} }

// KeyFor returns the published key for an algorithm.
func KeyFor(alg string) TestKey {
	for _, k := range Keys() {
		if k.Alg == alg {
			return k
		}
	}
	panic("vectors: no key for " + alg)
}

func edFromSeed(start byte) ed25519.PrivateKey {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = start + byte(i)
	}
	return ed25519.NewKeyFromSeed(seed)
}

func parseRSA(p string) *rsa.PrivateKey {
	block, _ := pem.Decode([]byte(p))
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		panic(err)
	}
	return k.(*rsa.PrivateKey)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// PublicJWK returns the key's public JWK as a map (kty, crv, x, y, n, e, kid, alg,
// use), ready to be changed by a test before marshalling.
func (k TestKey) PublicJWK() map[string]any {
	m := map[string]any{"kid": k.KID, "alg": k.Alg, "use": "sig"}
	switch pub := k.Private.Public().(type) {
	case ed25519.PublicKey:
		m["kty"], m["crv"], m["x"] = "OKP", "Ed25519", b64(pub)
	case *ecdsa.PublicKey:
		raw, err := pub.Bytes() // 0x04 || X || Y
		if err != nil {
			panic(err)
		}
		m["kty"], m["crv"], m["x"], m["y"] = "EC", "P-256", b64(raw[1:33]), b64(raw[33:])
	case *rsa.PublicKey:
		m["kty"], m["n"], m["e"] = "RSA", b64(pub.N.Bytes()), b64(big.NewInt(int64(pub.E)).Bytes())
	}
	return m
}

// PublicKeyBytes returns the encoding an attacker would use as an HMAC secret in an
// algorithm-confusion attack: the raw Ed25519 key, the uncompressed EC point, or the
// PKIX DER of the RSA key.
func (k TestKey) PublicKeyBytes() []byte {
	switch pub := k.Private.Public().(type) {
	case ed25519.PublicKey:
		return pub
	case *ecdsa.PublicKey:
		raw, _ := pub.Bytes()
		return raw
	default:
		der, _ := x509.MarshalPKIXPublicKey(pub)
		return der
	}
}

// PublicKeyPEM returns the PKIX public key in PEM, the other classic HMAC secret of
// algorithm-confusion attacks.
func (k TestKey) PublicKeyPEM() []byte {
	der, err := x509.MarshalPKIXPublicKey(k.Private.Public())
	if err != nil {
		panic(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// JWKS returns {"keys":[...]} holding the given JWK maps, or the public JWKs of the
// published keys when none are given.
func JWKS(jwks ...map[string]any) []byte {
	if len(jwks) == 0 {
		for _, k := range Keys() {
			jwks = append(jwks, k.PublicJWK())
		}
	}
	out, err := json.Marshal(map[string]any{"keys": jwks})
	if err != nil {
		panic(err)
	}
	return out
}
