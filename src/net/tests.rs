use std::net::IpAddr;

use super::limit::{ConnLimits, Listener, Refusal};

fn ip(last: u8) -> IpAddr {
    IpAddr::from([10, 0, 0, last])
}

#[test]
fn the_peer_cap_refuses_one_address_while_others_still_connect() {
    let listener = Listener::new("test", ConnLimits { per_listener: 10, per_peer: 2 });
    let a1 = listener.admit(ip(1)).expect("first");
    let _a2 = listener.admit(ip(1)).expect("second");
    assert_eq!(listener.admit(ip(1)).err(), Some(Refusal::Peer));
    let _b = listener.admit(ip(2)).expect("another peer");
    drop(a1);
    let _a3 = listener.admit(ip(1)).expect("a place was freed");
    let stats = listener.stats();
    assert_eq!((stats.open, stats.refused_peer, stats.refused_listener), (3, 1, 0));
}

#[test]
fn the_listener_cap_counts_every_peer() {
    let listener = Listener::new("test", ConnLimits { per_listener: 2, per_peer: 2 });
    let permits: Vec<_> = [1, 2].into_iter().map(|i| listener.admit(ip(i)).expect("under the cap")).collect();
    assert_eq!(listener.admit(ip(3)).err(), Some(Refusal::Listener));
    assert_eq!(Refusal::Listener.key(), "connections.max_per_listener");
    drop(permits);
    assert_eq!(listener.stats().open, 0);
    assert!(listener.admit(ip(3)).is_ok());
    assert_eq!(listener.stats().refused_listener, 1);
}
