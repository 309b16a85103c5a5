package gate

// gateError is an abi sentinel with context, built without fmt (TinyGo-safe).
type gateError struct {
	sentinel error
	reason   string
}

func (e *gateError) Error() string { return e.sentinel.Error() + ": " + e.reason }
func (e *gateError) Unwrap() error { return e.sentinel }

func wrap(sentinel error, reason string) error { return &gateError{sentinel, reason} }
