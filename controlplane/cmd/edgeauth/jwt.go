package main

import "github.com/golang-jwt/jwt/v5"

type jwtClaims = jwt.Claims
