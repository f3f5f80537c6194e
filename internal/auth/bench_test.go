package auth

import "testing"

// BenchmarkHashPassword measures DefaultParams, the production cost (one
// login or password change).
func BenchmarkHashPassword(b *testing.B) {
	saved := current
	current = DefaultParams
	defer func() { current = saved }()
	for b.Loop() {
		if _, err := HashPassword(goodPassword); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyPassword is the login's cost.
func BenchmarkVerifyPassword(b *testing.B) {
	saved := current
	current = DefaultParams
	defer func() { current = saved }()
	h, _ := HashPassword(goodPassword)
	for b.Loop() {
		if ok, _, _ := VerifyPassword(h, goodPassword); !ok {
			b.Fatal("no match")
		}
	}
}

// BenchmarkCheckPasswordPolicy: the policy runs on every form submission.
func BenchmarkCheckPasswordPolicy(b *testing.B) {
	for b.Loop() {
		CheckPasswordPolicy("Ça fait déjà longtemps 2024", "marie.dupont@ilr.lu", "Marie Dupont")
	}
}
