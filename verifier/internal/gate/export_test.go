package gate

import (
	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/internal/policy"
	"github.com/edgeauth/edgeauth/verifier/jose"
)

// ReadConfig is what the gate reads from a configuration's JSON (for fields_test.go).
func ReadConfig(cfg []byte) (policy.Config, error) {
	pol, err := parseConfig(cfg)
	if err != nil {
		return policy.Config{}, err
	}
	return *pol.Config(), nil
}

// WriteFullDecision writes a decision with every member set (for fields_test.go):
// when verifier.Decision gains a field, the decision type and this function gain it too.
func (g *Gate) WriteFullDecision() []byte {
	return g.write(nil, &decision{action: "redirect", reason: abi.ReasonRevoked, status: 302,
		locationStr: "/login?return_to=%2Fadmin%2F", clear: true,
		claims: &jose.Claims{Subject: "user-1", SessionID: "c2Vzc2lvbg", Roles: []string{"admin"}, ExpiresAt: 1767225600, SecondFactor: true}})
}
