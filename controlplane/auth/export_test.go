package auth

// Argon2Runs reports how many argon2id computations ran so far.
func Argon2Runs() int64 { return argon2Runs.Load() }

// ParsePHC exposes the PHC parser to tests.
var ParsePHC = parsePHC

// HashWithParams hashes with chosen parameters (to plant old hashes).
var HashWithParams = hashPassword
