// The playground: pick a model, generate over the /v1/stream WebSocket, watch the job.
// Plain browser JavaScript, no build step and no outside resource.
"use strict";

(() => {
  const KEY_STORE = "abstrakt-queue.api-key";
  const MODEL_STORE = "abstrakt-queue.model";
  const RESOLUTIONS = ["480p", "720p", "1080p"];
  const KIND_ORDER = ["video", "image", "audio"];
  const TIER_ORDER = ["fast", "balanced", "quality"];
  const PHASES = {
    queue_wait: "Waiting in the queue",
    model_loading: "Loading the model",
    generation: "Generating",
    encoding: "Encoding",
    upload: "Uploading",
    done: "Done",
  };

  const $ = (id) => document.getElementById(id);
  const el = {
    form: $("generate-form"),
    key: $("api-key"),
    loadModels: $("load-models"),
    model: $("model"),
    modelHelp: $("model-help"),
    prompt: $("prompt"),
    durationField: $("duration-field"),
    duration: $("duration"),
    durationHelp: $("duration-help"),
    resolutionField: $("resolution-field"),
    resolution: $("resolution"),
    preview: $("preview"),
    generate: $("generate"),
    cancel: $("cancel"),
    jobId: $("job-id"),
    elapsed: $("elapsed"),
    phase: $("phase"),
    queuePosition: $("queue-position"),
    progress: $("progress"),
    progressText: $("progress-text"),
    error: $("error"),
    errorCode: $("error-code"),
    errorMessage: $("error-message"),
    previewFigure: $("preview-figure"),
    previewImage: $("preview-image"),
    resultFigure: $("result-figure"),
    result: $("result"),
  };

  let models = new Map(); // id -> the catalog's entry, available ones only
  let run = null; // the job being followed: {ws, jobId, started, timer, ended}
  let loadingKey = null; // the key whose models are being fetched

  // --- the key -----------------------------------------------------------------------
  function storedKey() {
    try {
      return localStorage.getItem(KEY_STORE) || "";
    } catch {
      return ""; // storage refused (private mode, a sandbox): the field still works
    }
  }

  function remember(name, value) {
    try {
      localStorage.setItem(name, value);
    } catch {
      /* not remembered, nothing else changes */
    }
  }

  // --- the catalog ---------------------------------------------------------------------
  async function loadModels() {
    const key = el.key.value.trim();
    if (!key) {
      el.modelHelp.textContent = "Enter an API key to load the models.";
      return;
    }
    if (key === loadingKey) return; // typing the key and clicking the button ask twice
    remember(KEY_STORE, key);
    el.modelHelp.textContent = "Loading the models…";
    let response;
    loadingKey = key;
    try {
      response = await fetch("/v1/models", { headers: { Authorization: `Bearer ${key}` } });
    } catch (err) {
      el.modelHelp.textContent = `The API did not answer: ${err.message}`;
      return;
    } finally {
      loadingKey = null;
    }
    if (!response.ok) {
      el.modelHelp.textContent = `The models could not be loaded (${response.status}): ${
        await detail(response)
      }`;
      setModels([]);
      return;
    }
    setModels((await response.json()).filter((m) => m.available));
  }

  async function detail(response) {
    try {
      const body = await response.json();
      return typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
    } catch {
      return response.statusText;
    }
  }

  function rank(list, value) {
    const i = list.indexOf(value);
    return i === -1 ? list.length : i;
  }

  function setModels(available) {
    models = new Map(available.map((m) => [m.id, m]));
    el.model.replaceChildren();
    if (available.length === 0) {
      el.model.append(new Option("No model available", ""));
      el.model.disabled = true;
      el.generate.disabled = true;
      applyModel(null);
      return;
    }
    const sorted = [...available].sort(
      (a, b) =>
        rank(KIND_ORDER, a.kind) - rank(KIND_ORDER, b.kind) ||
        rank(TIER_ORDER, a.tier) - rank(TIER_ORDER, b.tier) ||
        a.id.localeCompare(b.id),
    );
    let group = null;
    for (const m of sorted) {
      if (!group || group.dataset.kind !== m.kind) {
        group = document.createElement("optgroup");
        group.label = `${m.kind[0].toUpperCase()}${m.kind.slice(1)}`;
        group.dataset.kind = m.kind;
        el.model.append(group);
      }
      group.append(new Option(`${m.id} · ${m.tier} · ~${m.typical_latency_s} s`, m.id));
    }
    let chosen = "";
    try {
      chosen = localStorage.getItem(MODEL_STORE) || "";
    } catch {
      /* no remembered model */
    }
    el.model.value = models.has(chosen) ? chosen : sorted[0].id;
    el.model.disabled = false;
    el.generate.disabled = run !== null;
    applyModel(models.get(el.model.value));
  }

  // Show only the inputs the model takes, bounded as the catalog says.
  function applyModel(model) {
    const inputs = model ? model.inputs : {};
    el.modelHelp.textContent = model ? model.description : el.modelHelp.textContent;
    if (inputs.max_prompt_length) el.prompt.maxLength = inputs.max_prompt_length;

    const fixed = inputs.durations || null;
    const range = inputs.duration_range || null;
    el.durationField.hidden = !(fixed || range);
    if (fixed || range) {
      const low = range ? range[0] : Math.min(...fixed);
      const high = range ? range[1] : Math.max(...fixed);
      el.duration.min = String(low);
      el.duration.max = String(high);
      el.durationHelp.textContent = fixed ? `one of ${fixed.join(", ")}` : `${low} to ${high}`;
      const current = Number(el.duration.value);
      const fits = fixed ? fixed.includes(current) : current >= low && current <= high;
      if (!el.duration.value || !fits) {
        el.duration.value = String(inputs.default_duration ?? (fixed ? fixed[0] : low));
      }
    }

    const offered = (inputs.resolutions || []).filter((r) => RESOLUTIONS.includes(r));
    el.resolutionField.hidden = offered.length === 0;
    const previous = el.resolution.value;
    el.resolution.replaceChildren(
      ...offered.map((r) => {
        const only = (inputs.durations_at || {})[r];
        return new Option(only ? `${r} (${only.join(", ")} s only)` : r, r);
      }),
    );
    if (offered.includes(previous)) el.resolution.value = previous;
  }

  // --- a job over the WebSocket ---------------------------------------------------------
  function streamUrl() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${location.host}/v1/stream`;
  }

  function generate(event) {
    event.preventDefault();
    const model = models.get(el.model.value);
    const key = el.key.value.trim();
    if (!model || !key || run) return;
    const prompt = el.prompt.value.trim();
    if (!prompt) {
      el.prompt.focus();
      return;
    }
    const input = { prompt };
    if (!el.durationField.hidden) input.duration = Number(el.duration.value);
    if (!el.resolutionField.hidden) input.resolution = el.resolution.value;
    const preview = el.preview.checked;
    remember(KEY_STORE, key);
    remember(MODEL_STORE, model.id);

    reset();
    const ws = new WebSocket(streamUrl());
    run = { ws, jobId: null, started: performance.now(), timer: 0, ended: false };
    run.timer = setInterval(tick, 100);
    el.generate.disabled = true;
    el.progressText.textContent = "Connecting…";

    ws.onopen = () => {
      ws.send(
        JSON.stringify({ action: "generate", model: model.id, input, api_key: key, preview }),
      );
    };
    ws.onmessage = (message) => {
      let data;
      try {
        data = JSON.parse(message.data);
      } catch {
        return; // not ours to show
      }
      handle(data);
    };
    ws.onclose = (close) => {
      if (run && run.ws === ws && !run.ended) {
        showError("connection_closed", close.reason || `the stream closed (${close.code})`);
        finish();
      }
    };
  }

  function handle(data) {
    if (data.job_id && run.jobId && data.job_id !== run.jobId) return;
    switch (data.type) {
      case "accepted":
        run.jobId = data.job_id;
        el.jobId.textContent = data.job_id;
        el.cancel.hidden = false;
        el.progressText.textContent = data.cache_hit ? "Served from the cache" : "Queued";
        break;
      case "progress":
        showProgress(data);
        break;
      case "preview":
        if (safeUrl(data.frame_url)) {
          el.previewImage.src = data.frame_url;
          el.previewFigure.hidden = false;
        }
        break;
      case "complete":
        showProgress({ progress: 100, phase: "done" });
        showResult(data);
        finish();
        break;
      case "error":
        showError(data.code, data.message, data.errors);
        finish();
        break;
      default:
        break; // pong, subscribed and the like: nothing to show
    }
  }

  function showProgress(data) {
    if (typeof data.progress === "number") el.progress.value = data.progress;
    el.progress.textContent = `${el.progress.value} %`;
    if (data.phase) el.phase.textContent = PHASES[data.phase] || data.phase;
    if (typeof data.queue_position === "number") {
      el.queuePosition.textContent = `position ${data.queue_position}`;
    } else if (data.phase && data.phase !== "queue_wait") {
      el.queuePosition.textContent = "–";
    }
    const note = data.message ? ` (${data.message})` : "";
    el.progressText.textContent = `${el.progress.value} % · ${el.phase.textContent}${note}`;
  }

  function showResult(data) {
    const nodes = [];
    if (safeUrl(data.video_url)) {
      const video = document.createElement("video");
      for (const flag of ["autoplay", "muted", "loop", "playsinline", "controls"]) {
        video.setAttribute(flag, "");
      }
      video.muted = true; // the attribute alone sets only the default: autoplay needs this
      video.setAttribute("aria-label", "Generated video");
      video.src = data.video_url;
      nodes.push(video);
    } else if (Array.isArray(data.image_urls)) {
      data.image_urls.filter(safeUrl).forEach((url, i) => {
        const img = document.createElement("img");
        img.src = url;
        img.alt = `Generated image ${i + 1} of ${data.image_urls.length}`;
        nodes.push(img);
      });
    } else if (safeUrl(data.audio_url)) {
      const audio = document.createElement("audio");
      audio.controls = true;
      audio.src = data.audio_url;
      nodes.push(audio);
    } else {
      const pre = document.createElement("pre");
      pre.textContent = JSON.stringify(data.result ?? data, null, 2);
      nodes.push(pre);
    }
    el.result.replaceChildren(...nodes);
    el.resultFigure.hidden = false;
  }

  function safeUrl(value) {
    if (typeof value !== "string") return false;
    try {
      return ["http:", "https:"].includes(new URL(value, location.href).protocol);
    } catch {
      return false;
    }
  }

  function showError(code, message, errors) {
    el.errorCode.textContent = code || "error";
    // An invalid request names each field and what is allowed.
    const fields = Array.isArray(errors)
      ? errors.map((e) => `${(e.loc || []).join(".")}: ${e.msg}`)
      : [];
    el.errorMessage.textContent = [message || "", ...fields].join(" · ");
    el.error.hidden = false;
    el.progressText.textContent = "Failed";
  }

  function tick() {
    if (run) el.elapsed.textContent = `${((performance.now() - run.started) / 1000).toFixed(1)} s`;
  }

  function finish() {
    tick();
    clearInterval(run.timer);
    run.ended = true;
    const { ws } = run;
    run = null;
    el.cancel.hidden = true;
    el.generate.disabled = models.size === 0;
    if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close();
  }

  function cancel() {
    if (run && run.jobId && run.ws.readyState === WebSocket.OPEN) {
      run.ws.send(JSON.stringify({ action: "cancel", job_id: run.jobId }));
      el.progressText.textContent = "Canceling…";
    }
  }

  function reset() {
    el.jobId.textContent = "–";
    el.elapsed.textContent = "0.0 s";
    el.phase.textContent = "–";
    el.queuePosition.textContent = "–";
    el.progress.value = 0;
    el.progress.textContent = "0 %";
    el.error.hidden = true;
    el.previewFigure.hidden = true;
    el.previewImage.removeAttribute("src");
    el.resultFigure.hidden = true;
    el.result.replaceChildren();
  }

  // --- wiring ------------------------------------------------------------------------------
  el.key.value = storedKey();
  el.key.addEventListener("change", loadModels);
  el.loadModels.addEventListener("click", loadModels);
  el.model.addEventListener("change", () => applyModel(models.get(el.model.value)));
  el.form.addEventListener("submit", generate);
  el.cancel.addEventListener("click", cancel);
  if (el.key.value) loadModels();
})();
