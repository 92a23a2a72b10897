// Runs in the audio thread: hands 16 kHz mono samples to the page in 20 ms frames,
// downsampling when the browser would not open a 16 kHz context.
class Capture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.ratio = sampleRate / 16000;
    this.buffer = [];
    this.position = 0;
  }
  process(inputs) {
    const input = inputs[0][0];
    if (!input) return true;
    for (; this.position < input.length; this.position += this.ratio) {
      this.buffer.push(input[Math.floor(this.position)]);
    }
    this.position -= input.length;
    while (this.buffer.length >= 320) {
      const frame = new Int16Array(320);
      for (let i = 0; i < 320; i++) {
        const s = Math.max(-1, Math.min(1, this.buffer[i]));
        frame[i] = s < 0 ? s * 0x8000 : s * 0x7fff;
      }
      this.buffer.splice(0, 320);
      this.port.postMessage(frame.buffer, [frame.buffer]);
    }
    return true;
  }
}
registerProcessor("capture", Capture);
