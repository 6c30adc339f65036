//! Compiles a verified [`Scheme`](crate::Scheme) into a [`Plan`]: the addition schedule the
//! recursive kernel executes. (Filled in by the kernel issue.)
