package sdk

import "unsafe"

func unsafePointer(x []float32) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(x)) }
