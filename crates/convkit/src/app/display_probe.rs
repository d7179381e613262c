//! Keeping a headless GPU probe quiet.
//!
//! Every Vulkan instance wgpu creates loads Mesa's implicit `VK_LAYER_MESA_device_select`,
//! which asks libwayland for the display's GPU. Without a valid `XDG_RUNTIME_DIR` (containers,
//! CI, ssh sessions) libwayland prints `error: XDG_RUNTIME_DIR is invalid or not set in the
//! environment.` on stderr — once per instance, on successful commands too, in convkit's own
//! error format. libwayland skips that check when `WAYLAND_DISPLAY` is an absolute path, so
//! [`quiet_display_probe`] restarts the process with `WAYLAND_DISPLAY` naming a socket that
//! cannot exist: the connection fails silently, and the layer goes on choosing the device as
//! it would have (X11, then the boot GPU). Only builds with the `wgpu` feature do this, and only
//! when libwayland would complain; the environment seen by convkit's own code is otherwise
//! unchanged. (Setting the variable in-process, with `std::env::set_var`, is refused by the
//! workspace's lints in edition 2024.)

/// A socket path that cannot exist: `/dev/null` is not a folder.
pub const UNREACHABLE_WAYLAND_DISPLAY: &str = "/dev/null/convkit-headless";

/// Whether libwayland would print its `XDG_RUNTIME_DIR` error for these environment values:
/// no `WAYLAND_SOCKET`, a `WAYLAND_DISPLAY` that is not an absolute path (unset means
/// `wayland-0`), and an `XDG_RUNTIME_DIR` that is unset or not absolute.
pub fn wayland_would_complain(
    xdg_runtime_dir: Option<&std::ffi::OsStr>,
    wayland_display: Option<&std::ffi::OsStr>,
    wayland_socket: Option<&std::ffi::OsStr>,
) -> bool {
    let absolute =
        |v: Option<&std::ffi::OsStr>| v.is_some_and(|v| std::path::Path::new(v).is_absolute());
    wayland_socket.is_none() && !absolute(wayland_display) && !absolute(xdg_runtime_dir)
}

/// In a build with the `wgpu` feature on Unix, when libwayland would print its
/// `XDG_RUNTIME_DIR` error, replaces this process by itself with the same arguments and
/// `WAYLAND_DISPLAY` set to [`UNREACHABLE_WAYLAND_DISPLAY`] (see the module documentation).
/// Returns when nothing needs doing, elsewhere, or if the restart fails (the line then
/// appears, nothing else changes). Call first thing in `main`, before any thread starts.
pub fn quiet_display_probe() {
    #[cfg(all(unix, feature = "wgpu"))]
    {
        use std::os::unix::process::CommandExt;
        let var = std::env::var_os;
        if !wayland_would_complain(
            var("XDG_RUNTIME_DIR").as_deref(),
            var("WAYLAND_DISPLAY").as_deref(),
            var("WAYLAND_SOCKET").as_deref(),
        ) {
            return;
        }
        let Ok(exe) = std::env::current_exe() else {
            return;
        };
        let mut args = std::env::args_os();
        let mut command = std::process::Command::new(exe);
        if let Some(arg0) = args.next() {
            command.arg0(arg0);
        }
        // Only returns on failure.
        let _ = command
            .args(args)
            .env("WAYLAND_DISPLAY", UNREACHABLE_WAYLAND_DISPLAY)
            .exec();
    }
}

#[cfg(test)]
mod tests {
    use super::wayland_would_complain;
    use std::ffi::OsStr;

    #[test]
    fn complains_only_without_an_absolute_runtime_dir_or_display() {
        let s = |v: &'static str| Some(OsStr::new(v));
        assert!(wayland_would_complain(None, None, None));
        assert!(wayland_would_complain(s("relative"), None, None));
        assert!(wayland_would_complain(s(""), s("wayland-0"), None));
        assert!(!wayland_would_complain(s("/run/user/0"), None, None));
        assert!(!wayland_would_complain(
            None,
            s("/dev/null/convkit-headless"),
            None
        ));
        assert!(!wayland_would_complain(None, None, s("3")));
    }
}
