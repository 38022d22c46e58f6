// Package pipeline runs ordered, bounded worker pipelines: one reader
// produces items, a pool of workers processes them in parallel, and one
// emitter consumes them in the order they were read.
//
// # Contract
//
// Run starts one goroutine for read, Workers goroutines for work, and
// calls emit on the calling goroutine. It guarantees:
//
//   - Order: emit sees items in the order read put them, whatever the
//     number of workers or their scheduling, so output built in emit is
//     deterministic.
//   - Bound: at most InFlight items exist at once, read but not yet
//     emitted. Items are allocated once and reused, so buffers grown by
//     one item serve the next and memory is bounded by InFlight of the
//     largest items.
//   - Back-pressure: when emit is slow the items pile up in order
//     behind it, and once all InFlight are taken the reader's put blocks
//     until emit releases one. Neither side ever buffers more.
//   - Cancellation: when ctx ends, put stops handing out items, the
//     items in flight are finished without being emitted, and Run
//     returns ctx's error.
//   - First error wins: the first error, from read, work, emit or ctx,
//     stops the pipeline and is the one Run returns. A work error is
//     taken at its item's turn, after every earlier item was emitted, so
//     that with a deterministic reader the error returned is
//     deterministic too.
//   - No leaks: when Run returns, read has returned, every work call has
//     returned and none will be made, and the goroutines Run started
//     have nothing left to do but exit.
package pipeline
