//! The uniffi bindings generator, pinned to the uniffi version the library is built with.
//! Built only with the `cli` feature (`scripts/bindings` builds it in its own target folder so
//! the feature never reaches the shipped library).

fn main() {
    uniffi::uniffi_bindgen_main()
}
