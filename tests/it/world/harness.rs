//! The libtest-mimic harness: libtest's command line and output over the
//! tests every module lists.

use super::emulators::{moto, remove_tmpdirs};

/// One test: `<module>::<name>` and its body.
pub struct Test {
    name: String,
    body: Box<dyn FnOnce() + Send + 'static>,
}

impl Test {
    pub fn new(name: impl Into<String>, body: impl FnOnce() + Send + 'static) -> Test {
        Test {
            name: name.into(),
            body: Box::new(body),
        }
    }
}

/// `tests![a, b]` in a test module: its `tests()`, one `Test` per function,
/// named `<module>::<function>` (the top-level module: a submodule's tests
/// keep their module's name); `tests![a, b; sub]` adds `sub::tests()`.
macro_rules! tests {
    ($($f:ident),* $(,)? $(; $($sub:ident),+ $(,)?)?) => {
        pub fn tests() -> Vec<$crate::world::Test> {
            let module = module_path!().split("::").nth(1).unwrap();
            let own = vec![
                $($crate::world::Test::new(format!("{module}::{}", stringify!($f)), $f)),*
            ];
            own.into_iter()$($(.chain($sub::tests()))+)?.collect()
        }
    };
}
pub(crate) use tests;

/// A test taking longer than this is named on stderr with its time.
const SLOW: std::time::Duration = std::time::Duration::from_secs(5);

/// Run `tests` with libtest's command line and output: the one moto first,
/// then the tests in parallel. `isolate()` must have run before.
pub fn run_tests(tests: Vec<Test>) -> ! {
    let mut args = libtest_mimic::Arguments::from_args();
    // The tests mostly wait on emulators and deadlines, not on the CPU: on
    // two cores, 4 threads kept the CPU 60% busy (365 s), 6 or 8 cut the
    // run to about 300 s without a failure; 6 leaves deadline-timed tests
    // some headroom.
    if args.test_threads.is_none() {
        args.test_threads = Some(6);
    }
    if !args.list {
        moto();
    }
    let trials = tests
        .into_iter()
        .map(|t| {
            let body = t.body;
            let name = t.name.clone();
            libtest_mimic::Trial::test(t.name, move || {
                let started = std::time::Instant::now();
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body));
                // The suite's wall time is its slowest tests' (CI's budget):
                // name them, so the next one to speed up is in the log.
                let took = started.elapsed();
                if took >= SLOW {
                    eprintln!("slow test: {name} took {:.1}s", took.as_secs_f64());
                }
                outcome.map_err(|e| {
                    e.downcast_ref::<String>()
                        .cloned()
                        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_else(|| "panicked".into())
                        .into()
                })
            })
        })
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    remove_tmpdirs();
    conclusion.exit()
}
