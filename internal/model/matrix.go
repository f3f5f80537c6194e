package model

// Violation is a pair of neighbouring cells that breaks monotonicity: the
// cell at (I, J) is worse than the cell at (I2, J2), which is one step worse
// in one input (the next row or the next column).
type Violation struct {
	I, J   int
	I2, J2 int
}

// Violations returns every monotonicity violation of a matrix of output
// levels (higher = worse), in row-major order: a worse input must never give
// a better output, cell[i][j] ≤ cell[i+1][j] and cell[i][j] ≤ cell[i][j+1].
// Comparing neighbours is enough: ≤ is transitive, so a matrix without
// violations satisfies cell[i][j] ≤ cell[k][l] for every i ≤ k, j ≤ l. Rows
// may have different lengths (only existing neighbours are compared).
func Violations(cells [][]int) []Violation {
	var out []Violation
	for i, row := range cells {
		for j, v := range row {
			if j+1 < len(row) && v > row[j+1] {
				out = append(out, Violation{i, j, i, j + 1})
			}
			if i+1 < len(cells) && j < len(cells[i+1]) && v > cells[i+1][j] {
				out = append(out, Violation{i, j, i + 1, j})
			}
		}
	}
	return out
}

// Monotonic reports whether a (rectangular) matrix has no violation.
func Monotonic(cells [][]int) bool { return len(Violations(cells)) == 0 }
