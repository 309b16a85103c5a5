package gate

import "github.com/edgeauth/edgeauth/verifier/abi"

func wrap(sentinel error, reason string) error { return abi.Wrap(sentinel, reason) }
