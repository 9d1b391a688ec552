// Appended to a copy of Snakemake's HTML report by tests/test_html_report.py. It walks the report's
// own UI as a reader does (menu -> a study -> "figures" -> the eye button of each figure), waits
// for each figure's <img> to decode, and appends what it saw, as JSON, in a pre element with the
// id mfh-probe. With the URL hash #one it stops at the first figure (for the screenshot).
(async () => {
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const until = async (test, tries = 200) => {
    for (let i = 0; i < tries; i++) {
      const value = test();
      if (value) return value;
      await sleep(25);
    }
    return null;
  };
  const link = (text) =>
    [...document.querySelectorAll("#app a")].find((a) => a.textContent.trim() === text);
  const out = { menu: "", figures: {}, errors: [], resources: [] };
  window.addEventListener("error", (event) => out.errors.push(String(event.message)));
  try {
    await until(() => typeof app !== "undefined" && link("Workflow"));
    out.menu = document.querySelector("#app nav").innerText;
    const onlyOne = location.hash === "#one";
    walk: for (const category of Object.keys(categories).sort()) {
      app.setView({ navbarMode: "menu" });
      const entry = await until(() => link(category));
      if (!entry) { out.errors.push(`no menu entry ${category}`); continue; }
      entry.click();
      const figures = await until(() => link("figures"));
      if (!figures) { out.errors.push(`no figures in ${category}`); continue; }
      figures.click();
      await until(() => document.querySelector("#app table tbody tr"));
      const rows = [...document.querySelectorAll("#app table tbody tr")];
      for (let i = 0; i < rows.length; i++) {
        const row = [...document.querySelectorAll("#app table tbody tr")][i];
        const path = row.querySelector("td").textContent.trim();
        row.querySelector("a").click();  // the eye button: show the figure
        const uri = results[path] && results[path].data_uri;
        const img = await until(() => {
          const shown = [...document.images].find((im) => im.src === uri);
          return shown && shown.complete && shown;
        });
        out.figures[path] = {
          category,
          width: img ? img.naturalWidth : 0,
          height: img ? img.naturalHeight : 0,
        };
        if (onlyOne) break walk;
      }
    }
  } catch (error) {
    out.errors.push(String(error && error.stack || error));
  }
  out.resources = performance.getEntriesByType("resource").map((r) => r.name)
    .filter((name) => !name.startsWith("data:"));
  const pre = document.createElement("pre");
  pre.id = "mfh-probe";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
