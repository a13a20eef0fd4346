// Written by labctl (role frontend): where the page reads the posts from.
window.LAB = {
  tweetsUrl: "http://{{ hosts.twitter_collector.address }}:{{ hosts.twitter_collector.app_port }}/tweets/last/5",
  refreshSeconds: 30,
  env: "{{ env }}"
};
