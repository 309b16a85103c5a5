package revocation

// SetMaxReplay sets the replay bound until the returned function restores it.
func SetMaxReplay(n int) (restore func()) {
	old := maxReplay
	maxReplay = n
	return func() { maxReplay = old }
}
