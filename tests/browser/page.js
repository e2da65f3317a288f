// Helpers the browser tests run inside the page, as `window.__vw`.
//
// Added to every page before the front-end's own scripts (Playwright's
// `add_init_script`), so the image checks below see the page from its first
// image on. The Lab and Notebook 7 helpers go through `window.jupyterapp`, the
// application object those servers expose when asked to.

(() => {
  const state = {
    watches: {},      // selector -> {el, srcs}
    run: null,        // the state of the last runAll
    samples: 0,       // how many times every image was sampled
    broken: [],       // images seen broken: by a sample or by an error event
    voilaOutputs: [], // Voila's cell-output <script> elements, kept as they arrive
  };

  const SAMPLE_MS = 100;

  const describe = (img, how) => ({
    how,
    classes: img.className,
    src: (img.getAttribute('src') || '').slice(0, 80),
    at_ms: Math.round(performance.now()),
  });

  const isBroken = img => img.complete && img.naturalWidth === 0;

  // An <img> that fails to load fires `error`, which does not bubble: listen in
  // the capture phase, so a failure between two samples is seen too.
  window.addEventListener('error', event => {
    const img = event.target;
    if (img instanceof HTMLImageElement && img.getAttribute('src')) {
      state.broken.push(describe(img, 'error event'));
    }
  }, true);

  const sampleImages = () => {
    state.samples += 1;
    for (const img of document.querySelectorAll('img[src]')) {
      if (img.getAttribute('src') && isBroken(img)) {
        state.broken.push(describe(img, 'sample'));
      }
    }
  };

  const start = () => {
    setInterval(sampleImages, SAMPLE_MS);
    new MutationObserver(records => {
      for (const record of records) {
        for (const node of record.addedNodes) {
          if (node.nodeName === 'SCRIPT' &&
              node.type === 'application/vnd.voila.cell-output+json') {
            state.voilaOutputs.push(node);
          }
        }
      }
    }).observe(document, {childList: true, subtree: true});
  };
  start();

  const app = () => window.jupyterapp;

  const panel = path => {
    const a = app();
    if (!a || !a.shell || !a.shell.widgets) return null;
    for (const w of a.shell.widgets('main')) {
      if (w.context && w.context.path === path && w.content && w.sessionContext) return w;
    }
    return null;
  };

  const kernelOf = path => {
    const p = panel(path);
    return p && p.sessionContext.session && p.sessionContext.session.kernel;
  };

  window.__vw = {
    // ------------------------------------------------------------ Lab, Notebook 7
    hasPanel: path => !!panel(path),

    kernelStatus(path) {
      const k = kernelOf(path);
      return k ? `${k.status}/${k.connectionStatus}` : 'none';
    },

    kernelId(path) {
      const k = kernelOf(path);
      return k ? k.id : null;
    },

    runAll(path) {
      const p = panel(path);
      app().shell.activateById(p.id);
      const run = {done: false, ok: null, error: null};
      state.run = run;
      // Not returned to Playwright: the promise settles only when the cells finish.
      app().commands.execute('notebook:run-all-cells').then(
        ok => { run.ok = ok; run.done = true; },
        err => { run.error = String(err); run.done = true; });
      return true;
    },

    runState: () => state.run,

    cellErrors(path) {
      const errors = [];
      panel(path).content.widgets.forEach((cell, i) => {
        if (cell.model.type !== 'code') return;
        const outs = cell.model.outputs;
        for (let j = 0; j < outs.length; j++) {
          const o = outs.get(j).toJSON();
          if (o.output_type === 'error') errors.push(`cell ${i}: ${o.ename}: ${o.evalue}`);
        }
      });
      return errors;
    },

    unexecuted(path) {
      const pending = [];
      panel(path).content.widgets.forEach((cell, i) => {
        if (cell.model.type === 'code' && cell.model.sharedModel.getSource().trim() &&
            cell.model.executionCount === null) pending.push(i);
      });
      return pending;
    },

    // ------------------------------------------------------------ Voila
    voilaDone() {
      const cells = document.getElementById('rendered_cells');
      return !document.getElementById('loading') && !!cells && cells.style.display === '';
    },

    voilaKernelId() {
      const config = document.getElementById('jupyter-config-data');
      return config ? JSON.parse(config.textContent).kernelId : null;
    },

    voilaErrors() {
      const errors = [];
      state.voilaOutputs.forEach(node => {
        let out;
        try { out = JSON.parse(node.textContent); } catch (e) { return; }
        if (out && out.output_type === 'error') errors.push(`${out.ename}: ${out.evalue}`);
      });
      return errors;
    },

    // ------------------------------------------------------------ every front-end
    watchSrc(selector) {
      const els = document.querySelectorAll(selector);
      if (els.length !== 1) return `expected one element for ${selector}, found ${els.length}`;
      const el = els[0];
      const rec = {el, srcs: [el.getAttribute('src')]};
      new MutationObserver(() => {
        const s = el.getAttribute('src');
        if (s !== rec.srcs[rec.srcs.length - 1]) rec.srcs.push(s);
      }).observe(el, {attributes: true, attributeFilter: ['src']});
      state.watches[selector] = rec;
      return '';
    },

    watched(selector) {
      const rec = state.watches[selector];
      if (!rec) return null;
      const now = document.querySelectorAll(selector);
      return {
        srcs: rec.srcs,
        connected: rec.el.isConnected,
        same: now.length === 1 && now[0] === rec.el,
        count: now.length,
      };
    },

    images() {
      sampleImages();
      return {samples: state.samples, broken: state.broken};
    },

    async pixels(selector) {
      const img = document.querySelector(selector);
      const blob = await (await fetch(img.src)).blob();
      let bmp;
      if (blob.type === 'image/svg+xml') {
        // createImageBitmap decodes no SVG: rasterize it through an <img> of the same src
        bmp = new Image();
        bmp.src = img.src;
        await bmp.decode();
      } else {
        bmp = await createImageBitmap(blob);
      }
      const c = document.createElement('canvas');
      c.width = bmp.naturalWidth || bmp.width;
      c.height = bmp.naturalHeight || bmp.height;
      const ctx = c.getContext('2d');
      ctx.drawImage(bmp, 0, 0, c.width, c.height);
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      let sum = 0;
      let sq = 0;
      const n = d.length / 4;
      for (let i = 0; i < d.length; i += 4) {
        const v = (d[i] + d[i + 1] + d[i + 2]) / 3;
        sum += v;
        sq += v * v;
      }
      const mean = sum / n;
      const std = Math.sqrt(Math.max(0, sq / n - mean * mean));
      return {width: c.width, height: c.height, mean, std};
    },

    // The tabs to click, outermost first, so that `selector` is on a shown tab page:
    // each is marked with data-vw-tab and its selector returned.
    tabsHiding(selector) {
      const el = document.querySelector(selector);
      if (!el) return null;
      const clicks = [];
      for (let node = el; node && node.parentElement; node = node.parentElement) {
        const pages = node.parentElement;
        const tab = pages.parentElement;
        if (!tab || !tab.classList.contains('widget-tab') ||
            !pages.classList.contains('widget-tab-contents')) continue;
        const index = Array.from(pages.children).indexOf(node);
        const title = tab.querySelectorAll(':scope > .widget-tab-bar .lm-TabBar-tab')[index];
        if (!title) continue;
        const mark = `t${clicks.length}-${Math.random().toString(36).slice(2, 8)}`;
        title.setAttribute('data-vw-tab', mark);
        clicks.unshift(`[data-vw-tab="${mark}"]`);
      }
      return clicks;
    },

    tag(selector, tag, index) {
      const all = document.querySelectorAll(selector);
      const el = all[index < 0 ? all.length + index : index];
      if (el) el.setAttribute('data-vw-test', tag);
      return !!el;
    },
  };
})();
