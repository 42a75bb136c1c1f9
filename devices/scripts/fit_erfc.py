"""Fits the coefficients of `erfc_f32_lanes` in `devices/src/erfc.rs`.

With t = 1/(1 + z/2), erfc(z) = t·exp(−z² + P(t)) for z ≥ 0; P is smooth on t ∈ [1/6, 1]
(z ∈ [0, 10], past which erfc is below f32's smallest normal). This fits P by least squares in
the Chebyshev basis at 4,000 Chebyshev nodes, degree 9, and prints it in the monomial basis (the
form Horner's rule evaluates), rounded to f32. Run: `python3 devices/scripts/fit_erfc.py`
(NumPy).
"""

import math

import numpy as np

DEGREE = 9
NODES = 4000
T_LOW = 1.0 / 6.0

k = np.arange(NODES)
t = np.cos(np.pi * (k + 0.5) / NODES) * (1.0 - T_LOW) / 2.0 + (1.0 + T_LOW) / 2.0
z = 2.0 * (1.0 / t - 1.0)
target = np.array([math.log(math.erfc(zi) / ti) + zi * zi for zi, ti in zip(z, t)])
fit = np.polynomial.chebyshev.Chebyshev.fit(t, target, DEGREE)
monomial = fit.convert(kind=np.polynomial.Polynomial).coef
print("largest fit error:", np.abs(fit(t) - target).max())
for power, c in enumerate(monomial):
    print(f"t^{power}: {str(np.float32(c))}")
