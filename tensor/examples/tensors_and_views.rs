//! Tensors and views: shapes, strides, broadcasting and a transposed matmul without a copy.
//!
//! `cargo run --release --example tensors_and_views`
//!
//! A tensor is a shared buffer seen through a layout (shape, strides, offset). Transposing or
//! narrowing changes only the layout; element-wise math broadcasts size-1 axes (stride 0); the
//! matrix product reads a transposed operand through its strides.

use tensor::{DType, Result, Tensor};

/// What the example computed, for [`check`].
struct Summary {
    strides: Vec<usize>,
    transposed_strides: Vec<usize>,
    narrowed_offset: usize,
    broadcast: Vec<f64>,
    product: Vec<f64>,
    product_from_copy: Vec<f64>,
}

fn run() -> Result<Summary> {
    // Six numbers in one buffer, read as a 2×3 matrix in row-major order.
    let x = Tensor::arange(0.0, 6.0, 1.0, DType::F32)?.reshape(&[2, 3])?;
    println!("x = {x}");
    println!(
        "x: shape {:?}, strides {:?} (one step down a row skips 3 elements)",
        x.shape(),
        x.layout().strides()
    );

    // Transposing swaps the strides: same buffer, no copy.
    let xt = x.t()?;
    println!("xᵀ = {xt}");
    println!(
        "xᵀ: shape {:?}, strides {:?}, contiguous: {}, shares x's buffer: {}",
        xt.shape(),
        xt.layout().strides(),
        xt.is_contiguous(),
        xt.shares_storage_with(&x)
    );

    // Narrowing keeps columns 1..3: the layout starts one element later.
    let right = x.narrow(1, 1, 2)?;
    println!(
        "x[:, 1..3] = {right} (offset {}, strides {:?})",
        right.layout().offset(),
        right.layout().strides()
    );

    // Broadcasting: a [2, 1] column plus a [3] row gives [2, 3]. The column is read with stride 0
    // along the new axis, so nothing is repeated in memory.
    let column = Tensor::from_vec(vec![10.0f32, 20.0], &[2, 1])?;
    let row = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], &[3])?;
    let sum = column.add(&row)?;
    println!("[2,1] + [3] = {sum}");
    println!(
        "the column viewed as [2, 3] has strides {:?}",
        column.broadcast_to(&[2, 3])?.layout().strides()
    );

    // x · wᵀ with w stored as [4, 3] (the PyTorch layout of a Linear weight): the transposed
    // view goes straight into the GEMM, which follows its strides instead of copying it.
    let w = Tensor::arange(0.0, 12.0, 1.0, DType::F32)?.reshape(&[4, 3])?;
    let product = x.matmul(&w.t()?)?;
    let product_from_copy = x.matmul(&w.t()?.contiguous()?)?;
    println!("x · wᵀ = {product}");
    println!(
        "same as with a dense copy of wᵀ: {}",
        product.to_vec::<f32>()? == product_from_copy.to_vec::<f32>()?
    );

    Ok(Summary {
        strides: x.layout().strides().to_vec(),
        transposed_strides: xt.layout().strides().to_vec(),
        narrowed_offset: right.layout().offset(),
        broadcast: sum.to_vec_f64()?,
        product: product.to_vec_f64()?,
        product_from_copy: product_from_copy.to_vec_f64()?,
    })
}

/// The claims the printout makes: views share the buffer (their strides and offset say how), the
/// column broadcasts without a copy, and the product through the transposed view equals the one
/// through a dense copy.
fn check(s: &Summary) {
    assert_eq!(s.strides, [3, 1]);
    assert_eq!(s.transposed_strides, [1, 3]);
    assert_eq!(s.narrowed_offset, 1);
    assert_eq!(s.broadcast, [11.0, 12.0, 13.0, 21.0, 22.0, 23.0]);
    // Row i of x times row j of w: e.g. [0,1,2]·[0,1,2] = 5, [3,4,5]·[9,10,11] = 122.
    assert_eq!(s.product, [5.0, 14.0, 23.0, 32.0, 14.0, 50.0, 86.0, 122.0]);
    assert_eq!(s.product, s.product_from_copy);
}

fn main() -> Result<()> {
    check(&run()?);
    println!("checked: the strides, offset, broadcast sum and both products above");
    Ok(())
}

#[test]
fn views_share_the_buffer_and_products_agree() {
    check(&run().unwrap());
}
