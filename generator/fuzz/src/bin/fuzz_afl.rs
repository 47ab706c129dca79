//! The coverage-guided driver: AFL++ (through cargo-afl) feeds bytes to [`stackgen_fuzz::run`],
//! which panics, for AFL a crash, when an invariant breaks. Built and run by tests/fuzz/run.

fn main() {
    afl::fuzz!(|data: &[u8]| {
        stackgen_fuzz::run(data);
    });
}
