package model

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// bruteMonotonic is the definition: a worse input never yields a better
// output, for every pair of cells comparable in both inputs.
func bruteMonotonic(m [][]int) bool {
	for i := range m {
		for j := range m[i] {
			for k := i; k < len(m); k++ {
				for l := j; l < len(m[k]); l++ {
					if m[i][j] > m[k][l] {
						return false
					}
				}
			}
		}
	}
	return true
}

func randomMatrix(r *rand.Rand, rows, cols, levels int) [][]int {
	m := make([][]int, rows)
	for i := range m {
		m[i] = make([]int, cols)
		for j := range m[i] {
			m[i][j] = 1 + r.IntN(levels)
		}
	}
	return m
}

// randomMonotonic builds a monotonic matrix: each cell at least the worse
// of its upper and left neighbours, plus a random step.
func randomMonotonic(r *rand.Rand, rows, cols, levels int) [][]int {
	m := make([][]int, rows)
	for i := range m {
		m[i] = make([]int, cols)
		for j := range m[i] {
			lo := 1
			if i > 0 {
				lo = max(lo, m[i-1][j])
			}
			if j > 0 {
				lo = max(lo, m[i][j-1])
			}
			m[i][j] = min(levels, lo+r.IntN(2))
		}
	}
	return m
}

func transpose(m [][]int) [][]int {
	if len(m) == 0 {
		return nil
	}
	t := make([][]int, len(m[0]))
	for j := range t {
		t[j] = make([]int, len(m))
		for i := range m {
			t[j][i] = m[i][j]
		}
	}
	return t
}

// The neighbour check agrees with the definition on random matrices, most
// of which are not monotonic and some of which are.
func TestMonotonicAgreesWithDefinition(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	seen := map[bool]int{}
	for n := 0; n < 20000; n++ {
		rows, cols, levels := 1+r.IntN(6), 1+r.IntN(6), 1+r.IntN(5)
		var m [][]int
		if n%2 == 0 {
			m = randomMatrix(r, rows, cols, levels)
		} else {
			m = randomMonotonic(r, rows, cols, levels)
			if !bruteMonotonic(m) {
				t.Fatalf("generator made a non-monotonic matrix %v", m)
			}
		}
		want := bruteMonotonic(m)
		seen[want]++
		if got := Monotonic(m); got != want {
			t.Fatalf("Monotonic(%v) = %v, definition says %v", m, got, want)
		}
		// Every violation reported is a real one, between neighbours.
		for _, v := range Violations(m) {
			if m[v.I][v.J] <= m[v.I2][v.J2] || v.I2-v.I+v.J2-v.J != 1 {
				t.Fatalf("bogus violation %+v in %v", v, m)
			}
		}
	}
	if seen[true] < 1000 || seen[false] < 1000 {
		t.Fatalf("the generator does not exercise both outcomes: %v", seen)
	}
}

// Properties that hold of monotonic matrices: swapping the two inputs
// (transposition) keeps it monotonic; so does mapping the output through
// an order-preserving function, and taking the worse of two monotonic
// matrices cell by cell. Reversing the order of one input breaks it unless
// the matrix does not depend on that input.
func TestMonotonicProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for n := 0; n < 5000; n++ {
		rows, cols, levels := 1+r.IntN(6), 1+r.IntN(6), 1+r.IntN(5)
		a := randomMonotonic(r, rows, cols, levels)
		b := randomMonotonic(r, rows, cols, levels)
		if !Monotonic(transpose(a)) {
			t.Fatalf("transpose of %v not monotonic", a)
		}
		worse := make([][]int, rows)
		mapped := make([][]int, rows)
		for i := range a {
			worse[i] = make([]int, cols)
			mapped[i] = make([]int, cols)
			for j := range a[i] {
				worse[i][j] = max(a[i][j], b[i][j])
				mapped[i][j] = a[i][j]*a[i][j] + 3
			}
		}
		if !Monotonic(worse) || !Monotonic(mapped) {
			t.Fatalf("max or monotone map of %v, %v not monotonic", a, b)
		}
		flipped := make([][]int, rows)
		for i := range a {
			flipped[i] = a[rows-1-i]
		}
		rowsMatter := false
		for i := 1; i < rows; i++ {
			if fmt.Sprint(a[i]) != fmt.Sprint(a[0]) {
				rowsMatter = true
			}
		}
		if Monotonic(flipped) == rowsMatter {
			t.Fatalf("flipping the rows of %v: monotonic %v, rows matter %v", a, Monotonic(flipped), rowsMatter)
		}
	}
}

// The seed's figure 5 matrix (rows: unavailability, columns: users
// affected) is monotonic, and it is not symmetric; its transpose is
// monotonic too.
func TestSeedImpactMatrix(t *testing.T) {
	fig5 := [][]int{
		{1, 1, 1, 2, 3},
		{1, 1, 2, 2, 3},
		{1, 2, 2, 3, 3},
		{2, 2, 3, 3, 4},
		{2, 3, 3, 4, 4},
	}
	if !Monotonic(fig5) || !Monotonic(transpose(fig5)) {
		t.Fatal("figure 5 is monotonic")
	}
	if fmt.Sprint(fig5) == fmt.Sprint(transpose(fig5)) {
		t.Fatal("figure 5 is not symmetric")
	}
	bad := [][]int{{1, 2}, {1, 1}}
	if v := Violations(bad); len(v) != 1 || v[0] != (Violation{0, 1, 1, 1}) {
		t.Fatalf("Violations(%v) = %v", bad, v)
	}
}

// Random matrices written as documents: the rule reports a monotonicity
// problem exactly when the definition says the matrix is not monotonic.
func TestMatrixRuleOnDocuments(t *testing.T) {
	set := validSet(t)
	reg := set.Get(KindRegulatory, "reg-test")
	names := []string{"low", "high"}
	r := rand.New(rand.NewPCG(5, 6))
	for n := 0; n < 300; n++ {
		m := randomMatrix(r, 3, 3, 2)
		d := reg.Clone()
		d.Risk.Matrix.Cells = nil
		for _, row := range m {
			var cells []string
			for _, v := range row {
				cells = append(cells, names[v-1])
			}
			d.Risk.Matrix.Cells = append(d.Risk.Matrix.Cells, cells)
		}
		s := NewSet(set.Docs()...)
		s.Put(d)
		reported := false
		for _, p := range Validate(s) {
			if p.Key == "model.err.matrix_monotonic" && strings.HasPrefix(p.Path, "risk.matrix.cells[") {
				reported = true
			}
		}
		if reported == bruteMonotonic(m) {
			t.Fatalf("matrix %v: reported %v, monotonic %v", m, reported, bruteMonotonic(m))
		}
	}
}
