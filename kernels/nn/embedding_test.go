package nn

import (
	"math"
	"testing"

	"github.com/attnlab/attnlab/kernels/internal/kerneltest"
	"github.com/attnlab/attnlab/kernels/tensor"
)

func TestEmbeddingForward(t *testing.T) {
	const v, c = 11, 7
	table := randT(1, 1, v, c)
	ids := []int32{3, 0, 10, 3, 5, 9}
	for _, shape := range [][]int{{6, c}, {2, 3, c}, {3, 2, c}} {
		out := filled(9, shape...)
		must(t, EmbeddingForward(out, ids, table))
		want := make([]float32, 0, len(ids)*c)
		for _, id := range ids {
			want = append(want, table.Data[int(id)*c:(int(id)+1)*c]...)
		}
		kerneltest.Identical(t, "out "+shapeName(shape...), out.Data, want)
	}
}

func TestEmbeddingGradients(t *testing.T) {
	const v, c = 6, 5
	table := randT(1, 1, v, c)
	ids := []int32{1, 4, 1, 0, 1, 5, 4, 2} // repeats must add up; id 3 gets nothing
	out, dtable := tensor.New(2, 4, c), tensor.New(v, c)
	checkBackward(t, 2, out,
		func() { must(t, EmbeddingForward(out, ids, table)) },
		func(dout *tensor.Tensor) { must(t, EmbeddingBackward(dtable, dout, ids)) },
		param{"dtable", table, dtable})
}

func TestEmbeddingBadIDs(t *testing.T) {
	table := randT(1, 1, 5, 3)
	for _, c := range []struct {
		ids  []int32
		want string
	}{
		{[]int32{0, 1, 5}, "ids[2] = 5"},
		{[]int32{-1, 1, 2}, "ids[0] = -1"},
		{[]int32{0, math.MaxInt32, 2}, "ids[1] = 2147483647"},
	} {
		out, dtable := filled(9, 3, 3), filled(9, 5, 3)
		err := EmbeddingForward(out, c.ids, table)
		if err == nil || !containsAll(err.Error(), "nn.EmbeddingForward", c.want, "[0, 5)") {
			t.Errorf("ids %v: got error %v, want one naming %q", c.ids, err, c.want)
		}
		checkUntouched(t, "out", out, 9)
		err = EmbeddingBackward(dtable, out, c.ids)
		if err == nil || !containsAll(err.Error(), "nn.EmbeddingBackward", c.want) {
			t.Errorf("backward, ids %v: got error %v, want one naming %q", c.ids, err, c.want)
		}
		checkUntouched(t, "dtable", dtable, 9)
	}
}
