/** `orbit history`'s pictures of a run: the timeline, as text or as a static HTML page. */
export {
  buildTimeline,
  describePause,
  formatDuration as formatElapsed,
  horizonOf,
  offsetOf,
  pausedNow,
  receivedNow,
  type AttemptSpan,
  type PauseSpan,
  type Timeline,
  type WaitSpan,
} from '../../audit/timeline';
export { renderTimelineHtml } from '../../audit/timelineHtml';
export { dependsOnOf, lanesOf, type Lane } from '../../audit/timelineLanes';
export { describeItems, mapItemsOf, type MapItems } from '../../audit/timelineItems';
