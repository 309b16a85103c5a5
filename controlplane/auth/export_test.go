package auth

// Argon2Runs reports how many argon2id computations ran so far, and their total cost
// (memory KiB times passes).
func Argon2Runs() (runs, work int64) { return argon2Runs.Load(), argon2Work.Load() }

// ParsePHC exposes the PHC parser to tests.
var ParsePHC = parsePHC

// HashWithParams hashes with chosen parameters (to plant old hashes).
var HashWithParams = hashPassword
