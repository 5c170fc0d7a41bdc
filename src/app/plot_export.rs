//! Export of plots as CSV (written from the plotted data) and PNG (a crop of a window
//! screenshot). Panels queue requests; the app performs them after the frame, so no panel
//! touches the disk and the UI thread never waits on it (files are written on a worker thread).

use std::path::PathBuf;
use std::sync::Mutex;

/// One named series of `(x, y)` points.
pub type Series = (String, Vec<[f64; 2]>);

/// What a panel asked to export.
#[derive(Clone, Debug)]
pub enum ExportRequest {
    /// Write the series as CSV (`series,x,y` rows) to the path.
    Csv { path: PathBuf, series: Vec<Series> },
    /// Crop this screen rectangle out of the next screenshot and write it as PNG.
    Png { path: PathBuf, rect: egui::Rect },
    /// Write this text (e.g. a lesson file) to the path.
    Text { path: PathBuf, text: String },
}

/// Queue of export requests (shared by the panels of one frame).
#[derive(Default)]
pub struct PlotExports {
    queue: Mutex<Vec<ExportRequest>>,
    /// Folder the files go to.
    pub dir: PathBuf,
}

impl PlotExports {
    /// Exports into `dir`.
    pub fn new(dir: PathBuf) -> Self {
        Self {
            queue: Mutex::new(Vec::new()),
            dir,
        }
    }

    /// Queues a request.
    pub fn push(&self, r: ExportRequest) {
        self.queue.lock().expect("export queue").push(r);
    }

    /// Takes every queued request.
    pub fn take(&self) -> Vec<ExportRequest> {
        std::mem::take(&mut *self.queue.lock().expect("export queue"))
    }

    /// A file name for plot `name` with extension `ext` in the export folder.
    pub fn path_for(&self, name: &str, ext: &str) -> PathBuf {
        let safe: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.dir.join(format!("{safe}.{ext}"))
    }

    /// "CSV" and "PNG" buttons for a plot called `name` whose data is `series` and whose screen
    /// rectangle is `rect` (from the plot's response).
    pub fn buttons(
        &self,
        ui: &mut egui::Ui,
        name: &str,
        series: impl FnOnce() -> Vec<Series>,
        rect: egui::Rect,
    ) {
        ui.horizontal(|ui| {
            if ui
                .small_button("CSV")
                .on_hover_text(format!("Export {name} as CSV"))
                .clicked()
            {
                self.push(ExportRequest::Csv {
                    path: self.path_for(name, "csv"),
                    series: series(),
                });
            }
            if ui
                .small_button("PNG")
                .on_hover_text(format!("Export {name} as PNG"))
                .clicked()
            {
                self.push(ExportRequest::Png {
                    path: self.path_for(name, "png"),
                    rect,
                });
            }
        });
    }
}

/// CSV text of some series: a header `series,x,y` then one row per point.
pub fn series_csv(series: &[Series]) -> String {
    let mut s = String::from("series,x,y\n");
    for (name, pts) in series {
        for p in pts {
            s.push_str(&format!("{},{},{}\n", name.replace(',', ";"), p[0], p[1]));
        }
    }
    s
}

/// Crops `rect` (in points) out of a screenshot taken at `pixels_per_point` and returns RGBA.
pub fn crop_screenshot(
    image: &egui::ColorImage,
    rect: egui::Rect,
    pixels_per_point: f32,
) -> image::RgbaImage {
    let [w, h] = image.size;
    let x0 = ((rect.min.x * pixels_per_point).floor().max(0.0) as usize).min(w);
    let y0 = ((rect.min.y * pixels_per_point).floor().max(0.0) as usize).min(h);
    let x1 = ((rect.max.x * pixels_per_point).ceil().max(0.0) as usize)
        .min(w)
        .max(x0);
    let y1 = ((rect.max.y * pixels_per_point).ceil().max(0.0) as usize)
        .min(h)
        .max(y0);
    let mut out = image::RgbaImage::new((x1 - x0) as u32, (y1 - y0) as u32);
    for y in y0..y1 {
        for x in x0..x1 {
            let c = image.pixels[y * w + x];
            out.put_pixel((x - x0) as u32, (y - y0) as u32, image::Rgba(c.to_array()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_and_names() {
        let s = series_csv(&[("FL, gamma 2".into(), vec![[0.5, 0.25], [1.0, 0.0]])]);
        assert_eq!(s, "series,x,y\nFL; gamma 2,0.5,0.25\nFL; gamma 2,1,0\n");
        let e = PlotExports::new(PathBuf::from("/tmp/x"));
        assert_eq!(
            e.path_for("loss vs p_t", "csv"),
            PathBuf::from("/tmp/x/loss_vs_p_t.csv")
        );
    }

    #[test]
    fn crop_picks_the_rect() {
        let mut img = egui::ColorImage::filled([4, 3], egui::Color32::BLACK);
        img.pixels[4 + 2] = egui::Color32::RED;
        let r = egui::Rect::from_min_max(egui::pos2(1.0, 0.5), egui::pos2(1.5, 1.0));
        let c = crop_screenshot(&img, r, 2.0);
        assert_eq!(c.dimensions(), (1, 1));
        assert_eq!(c.get_pixel(0, 0).0, [255, 0, 0, 255]);
    }
}
