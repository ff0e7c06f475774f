package nn

import (
	"fmt"

	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/kernels/vmath"
)

// EmbeddingForward looks up token embeddings: out[i] = table[ids[i]], the
// wte layer of GPT-2.
//
//	ids    len N
//	table  (V, C)
//	out    (N, C), or (B, T, C) or any shape (.., C) whose leading
//	       dimensions multiply to N
//
// An id outside [0, V) is an error naming its position and value, and
// nothing is written. The kernel is a copy, so it is its own reference.
func EmbeddingForward(out *tensor.Tensor, ids []int32, table *tensor.Tensor) error {
	if err := checkEmbedding("nn.EmbeddingForward", "out", out, ids, "table", table); err != nil {
		return err
	}
	c := table.Shape[1]
	for i, id := range ids {
		copy(out.Data[i*c:(i+1)*c], table.Data[int(id)*c:(int(id)+1)*c])
	}
	return nil
}

// EmbeddingBackward accumulates dtable[ids[i]] += dout[i] for every i, in
// order, so repeated ids sum their gradients.
//
//	dout   (N.., C)  as out in EmbeddingForward
//	dtable (V, C)
func EmbeddingBackward(dtable, dout *tensor.Tensor, ids []int32) error {
	if err := checkEmbedding("nn.EmbeddingBackward", "dout", dout, ids, "dtable", dtable); err != nil {
		return err
	}
	c := dtable.Shape[1]
	for i, id := range ids {
		vmath.Axpy(1, dout.Data[i*c:(i+1)*c], dtable.Data[int(id)*c:(int(id)+1)*c])
	}
	return nil
}

// checkEmbedding validates a table (V, C), rows (N.., C) with N = len(ids),
// and then every id.
func checkEmbedding(op, rowsName string, rows *tensor.Tensor, ids []int32, tableName string, table *tensor.Tensor) error {
	chk := tensor.Check(op).Add(rowsName, rows).Add(tableName, table)
	if chk.Ok() && len(table.Shape) != 2 {
		chk.Failf("%s must have two dimensions (V, C)", tableName)
	}
	atLeast1D(chk, rowsName, rows)
	if chk.Ok() && (rows.Cols() != table.Shape[1] || rows.Rows() != len(ids)) {
		chk.Failf("%s must have shape (%d, %d), or (B, T, %d) with B·T = %d: one row of %s's width per id (len(ids) = %d)",
			rowsName, len(ids), table.Shape[1], table.Shape[1], len(ids), tableName, len(ids))
	}
	if err := chk.Err(); err != nil {
		return err
	}
	v := table.Shape[0]
	for i, id := range ids {
		if id < 0 || int(id) >= v {
			return fmt.Errorf("%s: ids[%d] = %d is outside the vocabulary [0, %d) of %s %s", op, i, id, v, tableName, tensor.FormatShape(table.Shape))
		}
	}
	return nil
}
