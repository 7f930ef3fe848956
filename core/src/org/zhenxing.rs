//! The Zhenxing sub-district example (振兴街道) as generated data on synthetic geometry.
