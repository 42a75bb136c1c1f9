//! # polyvit: co-training one vision transformer on images, video and audio.

pub mod data;
pub mod model;
pub mod train;
