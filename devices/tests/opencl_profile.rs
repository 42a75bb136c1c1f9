//! Kernel times (`POLYVIT_OPENCL_PROFILE=1`), in a test process of their own: the variable is read
//! when a device is opened, which no other test here does before it is set.

use devices::{ops, test_devices, Device, Layout, Storage};

#[test]
fn kernel_times_count_every_launch_per_kernel() {
    std::env::set_var("POLYVIT_OPENCL_PROFILE", "1");
    for device in test_devices() {
        let Device::OpenCl(cl) = &device else {
            continue;
        };
        let x = Storage::from_host(&device, &vec![0.5f32; 64 * 64]).unwrap();
        let square = Layout::contiguous(&[64, 64]);
        cl.kernel_times().unwrap(); // Whatever ran before.
        for _ in 0..3 {
            x.unary::<ops::Exp>(&square).unwrap();
        }
        x.matmul(&square, &x, &square).unwrap();
        let times = cl.kernel_times().unwrap();
        let launches = |name: &str| {
            times
                .iter()
                .find(|t| t.kernel.starts_with(name))
                .map_or(0, |t| t.launches)
        };
        assert_eq!(launches("unary exp f32"), 3, "{times:?}");
        assert_eq!(launches("matmul f32"), 1, "{times:?}");
        assert_eq!(times.len(), 2, "{times:?}");
        assert!(times.iter().all(|t| t.seconds > 0.0), "{times:?}");
        assert!(
            times.windows(2).all(|w| w[0].seconds >= w[1].seconds),
            "{times:?}"
        );
        // Read: the next call starts from nothing.
        assert!(cl.kernel_times().unwrap().is_empty());
    }
}
