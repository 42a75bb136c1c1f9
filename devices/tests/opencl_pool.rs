//! The OpenCL buffer pool: once warmed up, a repeated op sequence allocates no device memory.
//!
//! A test binary of its own, so no other test allocates on the device at the same time.

use devices::{ops, test_devices, Device, Layout, Storage};

fn matrix(device: &Device, rows: usize, cols: usize, seed: usize) -> Storage {
    let data: Vec<f32> = (0..rows * cols)
        .map(|i| ((i * 7 + seed * 13) % 17) as f32 / 17.0 - 0.5)
        .collect();
    Storage::from_host(device, &data).unwrap()
}

#[test]
fn a_warm_training_step_allocates_no_device_memory() {
    for device in test_devices() {
        let Device::OpenCl(cl) = &device else {
            continue;
        };
        let step = || {
            let (x, xl) = (matrix(&device, 64, 96, 1), Layout::contiguous(&[64, 96]));
            let w = matrix(&device, 80, 96, 2);
            let wl = Layout::contiguous(&[80, 96]).transpose(0, 1).unwrap();
            let h = x.matmul(&xl, &w, &wl).unwrap();
            let hl = Layout::contiguous(&[64, 80]);
            let a = h.unary::<ops::GeluTanh>(&hl).unwrap();
            let s = a.softmax_last(64, 80, 1.0, true).unwrap();
            let r = s.reduce::<ops::Sum>(&hl, &[0, 1]).unwrap();
            r.to_host_f64(&Layout::contiguous(&[1, 1])).unwrap()
        };
        let first = step();
        let warm = cl.allocations();
        for _ in 0..3 {
            assert_eq!(step(), first, "the same step gives the same result");
        }
        assert_eq!(
            cl.allocations(),
            warm,
            "repeating a step reuses pooled buffers"
        );
    }
}
