fn main() {
    quiet_wayland_probe();
    std::process::exit(anchorscope::cli::main());
}

/// Mesa's Vulkan drivers probe Wayland when wgpu enumerates adapters, and libwayland prints
/// "XDG_RUNTIME_DIR is invalid or not set" to stderr on machines without a session (CI,
/// ssh). That line would break the one-line error contract, so when the variable is unset
/// we point it at a private empty folder: the probe then fails quietly.
fn quiet_wayland_probe() {
    if std::env::var_os("XDG_RUNTIME_DIR").is_some() {
        return;
    }
    let user = std::env::var("USER").unwrap_or_else(|_| "user".into());
    let dir = std::env::temp_dir().join(format!("anchorscope-runtime-{user}"));
    if std::fs::create_dir_all(&dir).is_ok() {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700));
        }
        // SAFETY: called first thing in main, before any other thread exists.
        unsafe { std::env::set_var("XDG_RUNTIME_DIR", &dir) };
    }
}
