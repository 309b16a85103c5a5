package config_test

import (
	"errors"
	"fmt"

	"github.com/edgeauth/edgeauth/controlplane/config"
)

func ExampleConfig_Validate() {
	c := config.Default()
	c.PublicURL = "http://app.example.com"
	c.Cookies.Domain = "example.org"
	err := c.Validate()
	var ve *config.ValidationError
	if errors.As(err, &ve) {
		for _, p := range ve.Problems {
			fmt.Println(p.Key)
		}
	}
	// Output:
	// public_url
	// cookies.domain
	// keys.kek
}

func ExampleConfig_AccessCookie() {
	c := config.Default()
	c.PublicURL = "https://app.example.com"
	a, r := c.AccessCookie(), c.RefreshCookie()
	fmt.Println(a.Name, a.Path, r.Name, r.Path)
	c.Cookies.Domain = "example.com"
	a, r = c.AccessCookie(), c.RefreshCookie()
	fmt.Println(a.Name, a.Domain, r.Name, r.Domain)
	// Output:
	// __Host-edgeauth_at / __Secure-edgeauth_rt /auth
	// __Secure-edgeauth_at example.com __Secure-edgeauth_rt example.com
}
